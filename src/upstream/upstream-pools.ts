/**
 * One undici Pool per pushgateway (keep-alive connections, bounded count,
 * connect and response timeouts). Pools are created on first use and closed
 * when their target leaves the configuration.
 *
 * Contract: `get` is cheap (a Map lookup) and safe to call on every request.
 */
import { Pool } from 'undici';

export interface UpstreamTimeouts {
  readonly connectTimeoutMs: number;
  /** Time to wait for the response headers once the request is sent. */
  readonly responseTimeoutMs: number;
  readonly maxConnections: number;
}

export class UpstreamPools {
  readonly #pools = new Map<string, Pool>();
  #timeouts: UpstreamTimeouts;

  readonly #maxConnections: number | undefined;

  /**
   * @param fixed.maxConnections a cap that holds whatever the configuration
   *   says (background and health-check pools stay small).
   */
  constructor(timeouts: UpstreamTimeouts, fixed: { maxConnections?: number } = {}) {
    this.#maxConnections = fixed.maxConnections;
    this.#timeouts = this.#withCap(timeouts);
  }

  get(target: string): Pool {
    let pool = this.#pools.get(target);
    if (!pool) {
      const t = this.#timeouts;
      pool = new Pool(`http://${target}`, {
        connections: t.maxConnections,
        connect: { timeout: t.connectTimeoutMs },
        headersTimeout: t.responseTimeoutMs,
        bodyTimeout: t.responseTimeoutMs,
        keepAliveTimeout: 4000,
        pipelining: 1,
      });
      this.#pools.set(target, pool);
    }
    return pool;
  }

  /** Applies new timeouts: existing pools are drained and replaced lazily. */
  setTimeouts(configured: UpstreamTimeouts): void {
    const timeouts = this.#withCap(configured);
    const t = this.#timeouts;
    if (t.connectTimeoutMs === timeouts.connectTimeoutMs && t.responseTimeoutMs === timeouts.responseTimeoutMs && t.maxConnections === timeouts.maxConnections) return;
    this.#timeouts = timeouts;
    for (const target of [...this.#pools.keys()]) this.#drop(target);
  }

  /** Closes the pools of targets not in `keep`. */
  retain(keep: Iterable<string>): void {
    const wanted = new Set(keep);
    for (const target of [...this.#pools.keys()]) if (!wanted.has(target)) this.#drop(target);
  }

  async close(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.allSettled(pools.map((p) => p.close()));
  }

  #withCap(t: UpstreamTimeouts): UpstreamTimeouts {
    return this.#maxConnections === undefined ? t : { ...t, maxConnections: this.#maxConnections };
  }

  #drop(target: string): void {
    const pool = this.#pools.get(target);
    this.#pools.delete(target);
    // close() lets in-flight requests finish; errors here have nowhere useful to go.
    pool?.close().catch(() => undefined);
  }
}
