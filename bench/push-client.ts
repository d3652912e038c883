/**
 * A minimal push client on undici: one keep-alive Pool per origin, and
 * optionally following shardgate's 307 to the owning pushgateway (re-sending
 * the same body, as a redirect-following client would). Used for pre-filling
 * groups and for the load shapes autocannon cannot make (redirect following,
 * evenly paced open-loop load).
 *
 * Contract: `push` resolves with the final status and never throws for
 * HTTP statuses; network errors reject. Safe for concurrent use.
 */
import { Pool } from 'undici';

export interface PushOutcome {
  readonly status: number;
  readonly redirects: number;
  /** The response body, only when the final status is not 2xx. */
  readonly errorBody?: string;
}

export class PushClient {
  readonly #pools = new Map<string, Pool>();
  readonly #connections: number;
  readonly #body: string;
  readonly #headers: Record<string, string>;
  readonly #followRedirects: boolean;

  constructor(opts: { connections: number; body: string; headers: Record<string, string>; followRedirects: boolean }) {
    this.#connections = opts.connections;
    this.#body = opts.body;
    this.#headers = opts.headers;
    this.#followRedirects = opts.followRedirects;
  }

  async push(origin: string, path: string): Promise<PushOutcome> {
    let target = new URL(path, origin);
    for (let redirects = 0; ; redirects++) {
      const res = await this.#pool(target.origin).request({
        method: 'PUT',
        path: target.pathname + target.search,
        headers: this.#headers,
        body: this.#body,
      });
      const location = res.headers['location'];
      if (this.#followRedirects && (res.statusCode === 307 || res.statusCode === 308) && typeof location === 'string' && redirects < 3) {
        await res.body.dump();
        target = new URL(location, target);
        continue;
      }
      if (res.statusCode >= 200 && res.statusCode < 300) {
        await res.body.dump();
        return { status: res.statusCode, redirects };
      }
      return { status: res.statusCode, redirects, errorBody: (await res.body.text()).slice(0, 300) };
    }
  }

  async close(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.allSettled(pools.map((p) => p.close()));
  }

  #pool(origin: string): Pool {
    let pool = this.#pools.get(origin);
    if (pool === undefined) {
      pool = new Pool(origin, { connections: this.#connections, pipelining: 1, keepAliveTimeout: 30_000 });
      this.#pools.set(origin, pool);
    }
    return pool;
  }
}
