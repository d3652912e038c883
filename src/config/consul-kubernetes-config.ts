/**
 * The Consul and Kubernetes parts of the config: `membership.consul`,
 * `membership.kubernetes` and dynamic-sharding's `consul_server` block.
 * Files they name (token, CA, kubeconfig) are read here, at load, so a bad
 * one stops start-up or a reload with the key named; the Kubernetes token
 * file is read again on every request (it rotates).
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { type ConfigFile } from './schema.js';
import { DEFAULTS, type Config, type SourceConfig } from './config.js';
import { readReferencedFile } from './referenced-file.js';
import { inClusterSettings, kubeconfigSettings, KubernetesConfigError, type KubernetesApiSettings } from '../membership/sources/kubernetes-api.js';

type Membership = NonNullable<ConfigFile['membership']>;

export function consulSourceConfig(c: NonNullable<Membership['consul']>, baseDir: string, problems: string[]): SourceConfig {
  if (c.token !== undefined && c.token_file !== undefined) problems.push('membership.consul: set token or token_file, not both');
  const token = c.token_file !== undefined ? readReferencedFile(baseDir, c.token_file, 'membership.consul.token_file', problems)?.trim() : c.token;
  const ca = c.tls_config?.ca_file !== undefined ? readReferencedFile(baseDir, c.tls_config.ca_file, 'membership.consul.tls_config.ca_file', problems) : undefined;
  const waitMs = c.wait ?? DEFAULTS.membership.consulWaitMs;
  if (waitMs < 1000 || waitMs > 600_000) problems.push('membership.consul.wait: must be between 1s and 10m (Consul caps it at 10m)');
  return {
    kind: 'consul',
    connection: { address: c.server, token, basicAuth: undefined, tls: c.tls_config ? { ca, insecureSkipVerify: c.tls_config.insecure_skip_verify ?? false } : undefined },
    service: c.service,
    tags: c.tags ?? [],
    datacenter: c.datacenter,
    waitMs,
  };
}

/** The Consul source dynamic-sharding's `consul_server` implies: its registered service's passing instances. */
export function impliedConsulSource(server: NonNullable<Config['consulServer']>): SourceConfig {
  return { kind: 'consul', connection: server.connection, service: server.serviceName, tags: [], datacenter: undefined, waitMs: DEFAULTS.membership.consulWaitMs };
}

export function consulServerConfig(c: ConfigFile['consul_server'], problems: string[]): Config['consulServer'] {
  if (!c) return undefined;
  if ((c.username ?? '') === '' && (c.password ?? '') !== '') problems.push('consul_server.username: required with password');
  return {
    connection: {
      // An empty addr is the Go API client's default agent address, as dynamic-sharding got it.
      address: c.addr || '127.0.0.1:8500',
      token: c.token ?? undefined,
      // dynamic-sharding read username/password but never sent them; shardgate sends them as HTTP basic auth (the Go client's HttpAuth).
      basicAuth: c.username ? { username: c.username, password: c.password ?? '' } : undefined,
      tls: undefined,
    },
    serviceName: c.register_service_name || 'pushgateway',
  };
}

export function kubernetesSourceConfig(k: NonNullable<Membership['kubernetes']>, baseDir: string, problems: string[], env: NodeJS.ProcessEnv): SourceConfig | undefined {
  const reached = kubernetesApiConfig(k, 'membership.kubernetes', baseDir, problems, env);
  return reached === undefined ? undefined : { kind: 'kubernetes', ...reached, service: k.service, portName: k.port_name };
}

/** How a block (`where`) reaches the Kubernetes API, and the namespace it works in. */
export interface KubernetesApiKeys {
  readonly namespace?: string | undefined;
  readonly api_server?: string | undefined;
  readonly bearer_token?: string | undefined;
  readonly token_file?: string | undefined;
  readonly ca_file?: string | undefined;
  readonly insecure_skip_verify?: boolean | undefined;
  readonly kubeconfig_file?: string | undefined;
}

export function kubernetesApiConfig(k: KubernetesApiKeys, where: string, baseDir: string, problems: string[], env: NodeJS.ProcessEnv): { api: KubernetesApiSettings; namespace: string } | undefined {
  const at = (p: string): string => (isAbsolute(p) ? p : join(baseDir, p));
  let api: KubernetesApiSettings;
  try {
    if (k.kubeconfig_file !== undefined) {
      if (k.api_server !== undefined) problems.push(`${where}: set api_server or kubeconfig_file, not both`);
      api = kubeconfigSettings(at(k.kubeconfig_file));
    } else if (k.api_server !== undefined) {
      api = { server: k.api_server, token: undefined, ca: undefined, cert: undefined, key: undefined, insecureSkipVerify: k.insecure_skip_verify ?? false, defaultNamespace: undefined };
    } else {
      api = inClusterSettings(env);
    }
  } catch (err) {
    problems.push(`${where}: ${err instanceof KubernetesConfigError ? err.message : String(err)}`);
    return undefined;
  }
  if (k.bearer_token !== undefined && k.token_file !== undefined) problems.push(`${where}: set bearer_token or token_file, not both`);
  if (k.bearer_token !== undefined) api = { ...api, token: { value: k.bearer_token } };
  if (k.token_file !== undefined) {
    if (!existsSync(at(k.token_file))) problems.push(`${where}.token_file: cannot read ${at(k.token_file)}`);
    api = { ...api, token: { file: at(k.token_file) } };
  }
  if (k.ca_file !== undefined) api = { ...api, ca: readReferencedFile(baseDir, k.ca_file, `${where}.ca_file`, problems) };
  if (k.insecure_skip_verify !== undefined) api = { ...api, insecureSkipVerify: k.insecure_skip_verify };
  const namespace = k.namespace ?? api.defaultNamespace;
  if (namespace === undefined) {
    problems.push(`${where}.namespace: required (no service-account or kubeconfig namespace to default to)`);
    return undefined;
  }
  return { api, namespace };
}

/**
 * True when membership reads back the very service `consul_server`
 * registers the targets in (the implied source, or an explicit one on the
 * same agent and service). Then the configured targets seed the membership
 * until Consul's first answer, as dynamic-sharding built its first ring
 * from its `servers` before watching Consul: a Consul that is down at
 * start-up does not leave shardgate without shards.
 */
export function followsRegistration(c: Pick<Config, 'consulServer' | 'membership'>): boolean {
  const s = c.membership.source;
  return c.consulServer !== undefined && s.kind === 'consul' && s.service === c.consulServer.serviceName && s.connection.address === c.consulServer.connection.address;
}
