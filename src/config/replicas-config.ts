/**
 * The `replicas` block: several shardgate replicas sharing one ring through
 * a coordination store (replicas/). Absent: one process decides alone.
 */
import { type KubernetesApiSettings } from '../membership/sources/kubernetes-api.js';
import { type ConfigFile } from './schema.js';
import { kubernetesApiConfig } from './consul-kubernetes-config.js';
import { SAFETY } from '../replicas/replica-session.js';

export type CoordinationBackendConfig =
  | { readonly kind: 'etcd'; readonly endpoints: readonly string[]; readonly prefix: string; readonly username: string | undefined; readonly password: string | undefined }
  | { readonly kind: 'kubernetes'; readonly api: KubernetesApiSettings; readonly namespace: string; readonly leaseName: string };

export interface ReplicasConfig {
  /** Unique per replica; undefined: hostname:port, decided at start-up. */
  readonly id: string | undefined;
  /** How the other replicas reach this one; undefined: http://hostname:port + route prefix. */
  readonly advertiseUrl: string | undefined;
  readonly leaseTtlMs: number;
  readonly pollIntervalMs: number;
  /** Without an answer from the store for this long, /-/ready answers 503 (pushes are still served). */
  readonly notReadyAfterMs: number;
  readonly backend: CoordinationBackendConfig;
}

export const REPLICA_DEFAULTS = { leaseTtlMs: 20_000, pollIntervalMs: 500, notReadyAfterMs: 30_000, etcdPrefix: '/shardgate/', leaseName: 'shardgate' } as const;

/**
 * @param maxWriteDelayMs connect + response timeout: how long a write to a
 *   pushgateway may take to land. A replica writes only while its lease
 *   stays valid that long (replica-session.ts), so the lease must be longer.
 */
export function replicasConfig(file: ConfigFile, rebalanceEnabled: boolean, maxWriteDelayMs: number, baseDir: string, problems: string[], env: NodeJS.ProcessEnv = process.env): ReplicasConfig | undefined {
  const r = file.replicas;
  if (r === undefined) return undefined;
  if (!rebalanceEnabled) problems.push('replicas: needs rebalance.enabled (the leader rebalances for every replica)');
  const leaseTtlMs = r.lease_ttl ?? REPLICA_DEFAULTS.leaseTtlMs;
  const pollIntervalMs = r.poll_interval ?? REPLICA_DEFAULTS.pollIntervalMs;
  const notReadyAfterMs = r.not_ready_after ?? REPLICA_DEFAULTS.notReadyAfterMs;
  // etcd leases are granted in whole seconds; shorter would expire before the first renewal.
  if (leaseTtlMs < 2000) problems.push('replicas.lease_ttl: must be at least 2s');
  if (pollIntervalMs <= 0 || pollIntervalMs * 3 > leaseTtlMs) problems.push('replicas.poll_interval: must be greater than 0 and at most a third of lease_ttl (a lease is renewed every poll)');
  const needed = Math.ceil((maxWriteDelayMs + 2 * pollIntervalMs) / SAFETY / 1000);
  if (leaseTtlMs < needed * 1000) {
    problems.push(`replicas.lease_ttl: must be at least ${needed}s with these timeouts: a replica writes to a pushgateway only while its lease stays valid for upstream.connect_timeout + upstream.response_timeout (${maxWriteDelayMs / 1000}s) more, and trusts ${SAFETY * 100}% of the lease`);
  }
  if (notReadyAfterMs <= 0) problems.push('replicas.not_ready_after: must be greater than 0');
  let backend: CoordinationBackendConfig | undefined;
  if ((r.etcd === undefined) === (r.kubernetes === undefined)) {
    problems.push('replicas: set exactly one of etcd or kubernetes');
  } else if (r.etcd !== undefined) {
    if (r.etcd.password !== undefined && r.etcd.username === undefined) problems.push('replicas.etcd.password: needs username');
    const prefix = r.etcd.prefix ?? REPLICA_DEFAULTS.etcdPrefix;
    backend = { kind: 'etcd', endpoints: r.etcd.endpoints, prefix: prefix.endsWith('/') ? prefix : `${prefix}/`, username: r.etcd.username, password: r.etcd.password };
  } else if (r.kubernetes !== undefined) {
    const reached = kubernetesApiConfig(r.kubernetes, 'replicas.kubernetes', baseDir, problems, env);
    if (reached !== undefined) backend = { kind: 'kubernetes', ...reached, leaseName: r.kubernetes.lease_name ?? REPLICA_DEFAULTS.leaseName };
  }
  if (backend === undefined) return undefined;
  return { id: r.id, advertiseUrl: r.advertise_url, leaseTtlMs, pollIntervalMs, notReadyAfterMs, backend };
}
