/**
 * One undici Pool per pushgateway (keep-alive connections, bounded count,
 * connect and response timeouts, the upstream scheme and TLS options, and
 * the upstream Authorization header). Pools are created on first use and
 * closed when their target leaves the configuration or the settings change.
 *
 * Contract: `get` is cheap (a Map lookup) and safe to call on every request.
 */
import { Pool, type Dispatcher } from 'undici';
import { type UpstreamSettings } from '../config/config.js';
import { withAuthorization } from './authorization.js';

interface Entry {
  readonly pool: Pool;
  /** The pool, with the Authorization interceptor when one is configured. */
  readonly dispatcher: Dispatcher;
}

export class UpstreamPools {
  readonly #pools = new Map<string, Entry>();
  #settings: UpstreamSettings;

  readonly #maxConnections: number | undefined;

  /**
   * @param fixed.maxConnections a cap that holds whatever the configuration
   *   says (background and health-check pools stay small).
   */
  constructor(settings: UpstreamSettings, fixed: { maxConnections?: number } = {}) {
    this.#maxConnections = fixed.maxConnections;
    this.#settings = this.#withCap(settings);
  }

  get(target: string): Dispatcher {
    let entry = this.#pools.get(target);
    if (!entry) {
      const s = this.#settings;
      const pool = new Pool(this.origin(target), {
        connections: s.maxConnections,
        connect: {
          timeout: s.connectTimeoutMs,
          ...(s.tls === undefined
            ? {}
            : { ca: s.tls.ca, cert: s.tls.cert, key: s.tls.key, servername: s.tls.serverName, rejectUnauthorized: !s.tls.insecureSkipVerify }),
        },
        headersTimeout: s.responseTimeoutMs,
        bodyTimeout: s.responseTimeoutMs,
        keepAliveTimeout: 4000,
        pipelining: 1,
      });
      entry = { pool, dispatcher: s.authorization === undefined ? pool : pool.compose(withAuthorization(s.authorization)) };
      this.#pools.set(target, entry);
    }
    return entry.dispatcher;
  }

  /** "http://host:port" or "https://host:port": where a redirect sends a client. */
  origin(target: string): string {
    return `${this.#settings.scheme}://${target}`;
  }

  /** Applies new settings: when they differ, existing pools are drained and replaced lazily. */
  reconfigure(configured: UpstreamSettings): void {
    const settings = this.#withCap(configured);
    if (JSON.stringify(settings) === JSON.stringify(this.#settings)) return;
    this.#settings = settings;
    for (const target of [...this.#pools.keys()]) this.#drop(target);
  }

  /** Closes the pools of targets not in `keep`. */
  retain(keep: Iterable<string>): void {
    const wanted = new Set(keep);
    for (const target of [...this.#pools.keys()]) if (!wanted.has(target)) this.#drop(target);
  }

  async close(): Promise<void> {
    const entries = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.allSettled(entries.map((e) => e.pool.close()));
  }

  #withCap(s: UpstreamSettings): UpstreamSettings {
    return this.#maxConnections === undefined ? s : { ...s, maxConnections: this.#maxConnections };
  }

  #drop(target: string): void {
    const entry = this.#pools.get(target);
    this.#pools.delete(target);
    // close() lets in-flight requests finish; errors here have nowhere useful to go.
    entry?.pool.close().catch(() => undefined);
  }
}
