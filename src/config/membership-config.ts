/**
 * Maps the `membership:` block to `Config.membership`: exactly one source
 * (absent = the static `targets` list) plus the guard rules. Problems are
 * appended to `problems`, each naming its key, as load-config does.
 */
import { isAbsolute, resolve } from 'node:path';
import { type ConfigFile } from './schema.js';
import { DEFAULTS, type Config, type MembershipConfig, type SourceConfig } from './config.js';
import { consulSourceConfig, impliedConsulSource, kubernetesSourceConfig } from './consul-kubernetes-config.js';

export function membershipConfig(file: ConfigFile, staticTargets: number, baseDir: string, problems: string[], consulServer: Config['consulServer'] = undefined, env: NodeJS.ProcessEnv = process.env): MembershipConfig {
  const m = file.membership;
  const guard = {
    removeAfterMs: m?.remove_after ?? DEFAULTS.membership.removeAfterMs,
    maxRemovalRatio: m?.max_removal_ratio ?? DEFAULTS.membership.maxRemovalRatio,
  };
  const chosen = (['file_sd', 'dns', 'consul', 'kubernetes'] as const).filter((k) => m?.[k] !== undefined);
  if (chosen.length > 1) problems.push(`membership: set only one source (found ${chosen.join(', ')})`);
  // With consul_server, the targets are what shardgate registers in Consul, so they may stand beside a source.
  if (chosen.length > 0 && staticTargets > 0 && consulServer === undefined) problems.push(`targets and membership.${chosen[0] ?? ''}: the targets come from one place; remove \`targets\``);
  let source: SourceConfig = { kind: 'static' };
  if (m?.file_sd) {
    const files = m.file_sd.files.map((f) => (isAbsolute(f) ? f : resolve(baseDir, f)));
    m.file_sd.files.forEach((f, i) => {
      const why = fileSdPatternProblem(f);
      if (why !== undefined) problems.push(`membership.file_sd.files.${i}: ${why}`);
    });
    source = { kind: 'file_sd', files, refreshIntervalMs: m.file_sd.refresh_interval ?? DEFAULTS.membership.fileSdRefreshIntervalMs };
    if (source.refreshIntervalMs <= 0) problems.push('membership.file_sd.refresh_interval: must be greater than 0');
  } else if (m?.dns) {
    const type = m.dns.type ?? 'SRV';
    if (type !== 'SRV' && m.dns.port === undefined) problems.push(`membership.dns.port: required for type ${type}`);
    if (type === 'SRV' && m.dns.port !== undefined) problems.push('membership.dns.port: SRV records carry their own port; remove it');
    source = { kind: 'dns', names: m.dns.names, type, port: m.dns.port, refreshIntervalMs: m.dns.refresh_interval ?? DEFAULTS.membership.dnsRefreshIntervalMs, resolver: m.dns.resolver };
    if (source.refreshIntervalMs <= 0) problems.push('membership.dns.refresh_interval: must be greater than 0');
  } else if (m?.consul) {
    source = consulSourceConfig(m.consul, baseDir, problems);
  } else if (m?.kubernetes) {
    source = kubernetesSourceConfig(m.kubernetes, baseDir, problems, env) ?? source;
  } else if (consulServer !== undefined) {
    // dynamic-sharding's behaviour: membership follows Consul's health answers for the registered service.
    source = impliedConsulSource(consulServer);
  }
  return { source, ...guard };
}

/** Prometheus' rule for file_sd names: .json/.yml/.yaml, at most one `*`, only in the last path segment. */
function fileSdPatternProblem(pattern: string): string | undefined {
  if (!/\.(json|ya?ml)$/.test(pattern)) return `${JSON.stringify(pattern)} must end in .json, .yml or .yaml`;
  const lastSlash = pattern.lastIndexOf('/');
  if (pattern.slice(0, lastSlash + 1).includes('*')) return `${JSON.stringify(pattern)}: a * may only appear in the last path segment`;
  if ((pattern.match(/\*/g) ?? []).length > 1) return `${JSON.stringify(pattern)}: at most one *`;
  return undefined;
}
