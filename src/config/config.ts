/**
 * The effective configuration: file + defaults, validated once and frozen.
 */
import { type ExpirySettings } from '../expiry/rules.js';

export type Mode = 'proxy' | 'redirect';

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
  /** Group expiry (expiry/rules.ts); undefined when the file has no `expiry` block: nothing expires. */
  readonly expiry: ExpirySettings | undefined;
  /** Set when the file carries dynamic-sharding's consul_server block (accepted, not used yet). */
  readonly consulServer: { readonly addr: string; readonly serviceName: string } | undefined;
  /** Human-readable remarks about the file (legacy keys, ignored blocks), logged at load. */
  readonly notices: readonly string[];
}

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
  expiry: { intervalMs: 30_000 },
  limits: { maxBodyBytes: 16 * 2 ** 20, maxConnections: 512, maxConnectionsPerIp: 0 },
} as const;
