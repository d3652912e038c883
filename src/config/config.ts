/**
 * The effective configuration: file + defaults, validated once and frozen.
 */
import { type ConsulConnection } from '../consul/consul-api.js';
import { type KubernetesApiSettings } from '../membership/sources/kubernetes-api.js';
import { type ExpirySettings } from '../expiry/rules.js';
import { type ReplicasConfig } from './replicas-config.js';

export type Mode = 'proxy' | 'redirect';

/** Who runs Pushgateway's consistency check: shardgate for the whole fleet, each pushgateway for itself, or nobody. */
export type ConsistencyCheck = 'gateway' | 'shard' | 'off';

export interface Config {
  /** Listen address from the file, if it set one (flags override it). */
  readonly listenAddress: string | undefined;
  readonly mode: Mode;
  /** host:port of every configured pushgateway, in file order, no duplicates. */
  readonly targets: readonly string[];
  readonly healthCheck: { readonly intervalMs: number; readonly timeoutMs: number; readonly fall: number; readonly rise: number };
  readonly upstream: UpstreamSettings;
  readonly rebalance: { readonly enabled: boolean; readonly sweepIntervalMs: number; readonly concurrency: number; readonly maxMovesPerSecond: number };
  /**
   * Client-facing limits. maxBodyBytes bounds a push body (after gzip
   * decoding); maxConnections bounds open client connections (Prometheus'
   * --web.max-connections); maxConnectionsPerIp bounds them per client
   * address, 0 = no per-address limit.
   */
  readonly limits: { readonly maxBodyBytes: number; readonly maxConnections: number; readonly maxConnectionsPerIp: number };
  /** Where the targets come from, and the guard rules for dynamic sources. */
  readonly membership: MembershipConfig;
  /**
   * dynamic-sharding's `consul_server` block: register every target in
   * Consul under `serviceName` (and, unless another source is configured,
   * follow that service's health answers for membership).
   */
  readonly consulServer: { readonly connection: ConsulConnection; readonly serviceName: string } | undefined;
  /**
   * consistencyCheck is undefined when the file does not set it: `shard`
   * for a remote fleet, `gateway` for `shardgate local` (main.ts decides).
   * indexResyncIntervalMs: how often gateway mode re-reads the shards.
   */
  readonly push: { readonly consistencyCheck: ConsistencyCheck | undefined; readonly indexResyncIntervalMs: number };
  /** Group expiry (expiry/rules.ts); undefined when the file has no `expiry` block: nothing expires. */
  readonly expiry: ExpirySettings | undefined;
  /** Several replicas sharing one ring (replicas/); undefined: this process decides alone. Fixed at start-up. */
  readonly replicas: ReplicasConfig | undefined;
  /**
   * Replication (src/replication/): undefined when off (the default). The
   * standby targets are pushgateways Prometheus does not scrape; never
   * members, never in discovery.
   */
  readonly replication: { readonly standbyTargets: readonly string[] } | undefined;
  /** Human-readable remarks about the file (legacy keys, ignored blocks), logged at load. */
  readonly notices: readonly string[];
}

export interface MembershipConfig {
  readonly source: SourceConfig;
  /** A target absent from a dynamic source's answers for this long leaves (flap damping). */
  readonly removeAfterMs: number;
  /** At most this fraction of the configured targets is drained at once because a source dropped them. */
  readonly maxRemovalRatio: number;
}

/** One variant per source kind; `static` is the `targets` list. */
export type SourceConfig =
  | { readonly kind: 'static' }
  | { readonly kind: 'file_sd'; readonly files: readonly string[]; readonly refreshIntervalMs: number }
  | {
      readonly kind: 'dns';
      readonly names: readonly string[];
      readonly type: 'A' | 'AAAA' | 'SRV';
      /** Required for A/AAAA; SRV records carry their own port. */
      readonly port: number | undefined;
      readonly refreshIntervalMs: number;
      /** host:port of the DNS server to ask; undefined = the system's resolvers. */
      readonly resolver: string | undefined;
    }
  | {
      readonly kind: 'consul';
      readonly connection: ConsulConnection;
      readonly service: string;
      readonly tags: readonly string[];
      readonly datacenter: string | undefined;
      /** The blocking query's `wait`. */
      readonly waitMs: number;
    }
  | {
      readonly kind: 'kubernetes';
      /** How to reach the API server (in-cluster, explicit or kubeconfig), resolved at load. */
      readonly api: KubernetesApiSettings;
      readonly namespace: string;
      readonly service: string;
      readonly portName: string | undefined;
    };

export interface UpstreamSettings {
  readonly connectTimeoutMs: number;
  /** Time to wait for the response headers once the request is sent. */
  readonly responseTimeoutMs: number;
  readonly maxConnections: number;
  readonly scheme: 'http' | 'https';
  /** TLS towards the pushgateways (scheme https); PEM contents, read when the config is loaded. */
  readonly tls: UpstreamTls | undefined;
  /** `Basic …` header value sent with every upstream request, or undefined. */
  readonly authorization: string | undefined;
}

export interface UpstreamTls {
  readonly ca: string | undefined;
  readonly cert: string | undefined;
  readonly key: string | undefined;
  readonly serverName: string | undefined;
  readonly insecureSkipVerify: boolean;
}

export const DEFAULTS = {
  listenAddress: ':9292',
  mode: 'proxy' as Mode,
  healthCheck: { intervalMs: 5000, timeoutMs: 2000, fall: 2, rise: 2 },
  upstream: { connectTimeoutMs: 2000, responseTimeoutMs: 10_000, maxConnections: 64 },
  rebalance: { enabled: true, sweepIntervalMs: 60_000, concurrency: 4, maxMovesPerSecond: 500 },
  membership: { removeAfterMs: 30_000, maxRemovalRatio: 0.5, fileSdRefreshIntervalMs: 5 * 60_000, dnsRefreshIntervalMs: 30_000, consulWaitMs: 60_000 },
  push: { indexResyncIntervalMs: 60_000 },
  expiry: { intervalMs: 30_000 },
  limits: { maxBodyBytes: 16 * 2 ** 20, maxConnections: 512, maxConnectionsPerIp: 0 },
} as const;
