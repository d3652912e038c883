/**
 * Reads and validates a config file. Every problem is reported at once, each
 * naming its key, in a ConfigError; nothing half-valid is ever returned.
 */
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { type z } from 'zod';
import { fileSchema, type ConfigFile } from './schema.js';
import { type Config, DEFAULTS } from './config.js';
import { upstreamSecurity } from './upstream-security.js';
import { consulServerConfig, followsRegistration } from './consul-kubernetes-config.js';
import { membershipConfig } from './membership-config.js';
import { parseSelector, SelectorError } from '../expiry/selector.js';
import { replicasConfig } from './replicas-config.js';
import { type ExpiryRule, type ExpirySettings } from '../expiry/rules.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'SHARDGATE_BAD_CONFIG';
}

export async function loadConfigFile(path: string): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return parseConfig(text, path, dirname(path));
}

/** @param baseDir where relative file names in the config (certificates, password files) start. */
export function parseConfig(text: string, source = 'config', baseDir = process.cwd()): Config {
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (err) {
    const msg = err instanceof YAMLParseError ? err.message : String(err);
    throw new ConfigError(`${source}: invalid YAML: ${msg}`);
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`${source}: ${formatIssues(parsed.error.issues)}`);
  return build(parsed.data, source, baseDir);
}

function build(file: ConfigFile, source: string, baseDir: string): Config {
  const notices: string[] = [];
  const problems: string[] = [];
  if (file.listen_address !== undefined && file.http_listen_addr !== undefined) {
    problems.push('listen_address and http_listen_addr: set only one');
  }
  const targets: string[] = [...(file.targets ?? [])];
  if (file.pushgateway) {
    notices.push('pushgateway.servers/port (dynamic-sharding format) read as targets');
    for (const server of file.pushgateway.servers) {
      targets.push(/:\d+$/.test(server) && !server.endsWith(']') ? server : `${server}:${file.pushgateway.port}`);
    }
  }
  const duplicates = targets.filter((t, i) => targets.indexOf(t) !== i);
  if (duplicates.length > 0) problems.push(`targets: duplicate target(s) ${[...new Set(duplicates)].join(', ')}`);
  const consulServer = consulServerConfig(file.consul_server, problems);
  const hc = { ...DEFAULTS.healthCheck, ...defined({ intervalMs: file.health_check?.interval, timeoutMs: file.health_check?.timeout, fall: file.health_check?.fall, rise: file.health_check?.rise }) };
  if (hc.intervalMs <= 0) problems.push('health_check.interval: must be greater than 0');
  if (hc.timeoutMs <= 0) problems.push('health_check.timeout: must be greater than 0');
  const up = { ...DEFAULTS.upstream, ...defined({ connectTimeoutMs: file.upstream?.connect_timeout, responseTimeoutMs: file.upstream?.response_timeout, maxConnections: file.upstream?.max_connections }) };
  if (up.connectTimeoutMs <= 0) problems.push('upstream.connect_timeout: must be greater than 0');
  if (up.responseTimeoutMs <= 0) problems.push('upstream.response_timeout: must be greater than 0');
  const security = upstreamSecurity(file.upstream, baseDir, problems);
  const rb = { ...DEFAULTS.rebalance, ...defined({ enabled: file.rebalance?.enabled, sweepIntervalMs: file.rebalance?.sweep_interval, concurrency: file.rebalance?.concurrency, maxMovesPerSecond: file.rebalance?.max_moves_per_second }) };
  const limits = { ...DEFAULTS.limits, ...defined({ maxBodyBytes: file.limits?.max_body_size, maxConnections: file.limits?.max_connections, maxConnectionsPerIp: file.limits?.max_connections_per_ip }) };
  const push = { consistencyCheck: file.push?.consistency_check, indexResyncIntervalMs: file.push?.index_resync_interval ?? DEFAULTS.push.indexResyncIntervalMs };
  if (push.indexResyncIntervalMs <= 0) problems.push('push.index_resync_interval: must be greater than 0');
  if (limits.maxBodyBytes <= 0) problems.push('limits.max_body_size: must be greater than 0');
  const membership = membershipConfig(file, targets.length, baseDir, problems, consulServer);
  if (consulServer !== undefined) {
    notices.push(`consul_server: the targets are registered in Consul as service ${JSON.stringify(consulServer.serviceName)}` +
      (followsRegistration({ consulServer, membership }) ? ', and membership follows its passing instances' : ''));
  }
  const expiry = expirySettings(file.expiry, problems);
  const replicas = replicasConfig(file, rb.enabled, up.connectTimeoutMs + up.responseTimeoutMs, baseDir, problems);
  const replication = replicationSettings(file.replication, targets, problems);
  // Who writes the standby copies and restores them with several replicas (the leader) is not built yet.
  if (replicas !== undefined && replication !== undefined) problems.push('replicas and replication: not supported together yet (run replication with one shardgate)');
  if (problems.length > 0) throw new ConfigError(`${source}: ${problems.join('; ')}`);
  return deepFreeze({
    listenAddress: file.listen_address ?? file.http_listen_addr,
    mode: file.mode ?? DEFAULTS.mode,
    targets,
    healthCheck: hc,
    upstream: { ...up, ...security },
    rebalance: rb,
    limits,
    membership,
    push,
    expiry,
    replicas,
    replication,
    consulServer,
    notices,
  });
}

function replicationSettings(file: ConfigFile['replication'], targets: readonly string[], problems: string[]): Config['replication'] {
  if (file === undefined || file.enabled !== true) return undefined;
  const standbyTargets = file.standby_targets ?? [];
  // `shardgate local --standby` adds its own; a remote fleet must list them.
  const shared = standbyTargets.filter((t) => targets.includes(t));
  if (shared.length > 0) problems.push(`replication.standby_targets: ${shared.join(', ')} also listed in targets (a standby must not be scraped)`);
  if (new Set(standbyTargets).size !== standbyTargets.length) problems.push('replication.standby_targets: duplicate target(s)');
  return { standbyTargets };
}

function expirySettings(file: ConfigFile['expiry'], problems: string[]): ExpirySettings | undefined {
  if (file === undefined) return undefined;
  const intervalMs = file.interval ?? DEFAULTS.expiry.intervalMs;
  if (intervalMs <= 0) problems.push('expiry.interval: must be greater than 0');
  if (file.default !== undefined && file.default <= 0) problems.push('expiry.default: must be greater than 0');
  const rules: ExpiryRule[] = [];
  (file.rules ?? []).forEach((r, i) => {
    if (r.max_age <= 0) problems.push(`expiry.rules.${i}.max_age: must be greater than 0`);
    try {
      rules.push({ selector: parseSelector(r.match), maxAgeMs: r.max_age });
    } catch (err) {
      if (!(err instanceof SelectorError)) throw err;
      problems.push(`expiry.rules.${i}.match: ${err.message}`);
    }
  });
  return { intervalMs, rules, defaultMaxAgeMs: file.default };
}

/** An empty configuration (no file): defaults, no targets. */
export function defaultConfig(): Config {
  return parseConfig('');
}

function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((i) => {
      const at = i.path.length > 0 ? i.path.map(String).join('.') : '(top level)';
      if (i.code === 'unrecognized_keys') {
        return i.keys.map((k) => `${i.path.length > 0 ? `${at}.` : ''}${k}: unknown key`).join('; ');
      }
      return `${at}: ${i.message}`;
    })
    .join('; ');
}

function defined<T extends Record<string, unknown>>(o: T): Partial<{ [K in keyof T]: Exclude<T[K], undefined> }> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as Partial<{ [K in keyof T]: Exclude<T[K], undefined> }>;
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
