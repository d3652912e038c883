/**
 * Whole-request calls to a pushgateway (health, list groups, push a body,
 * delete, wipe), used by background work: health checks, merged reads,
 * rebalancing. The hot push path streams through proxy/ instead.
 *
 * Every call has a deadline; none ever hangs. Non-2xx answers become
 * PushgatewayHttpError carrying the pushgateway's status and body.
 */
import { type Dispatcher } from 'undici';
import { type UpstreamPools } from './upstream-pools.js';
import { type ApiGroup, type MetricsApiResponse } from './metrics-api.js';
import { type ShardClient } from './shard-client.js';

export class PushgatewayHttpError extends Error {
  override readonly name = 'PushgatewayHttpError';
  constructor(
    readonly target: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(`pushgateway ${target} answered ${status}: ${body.trim().slice(0, 200)}`);
  }
}

export class PushgatewayClient implements ShardClient {
  readonly #pools: UpstreamPools;

  constructor(pools: UpstreamPools) {
    this.#pools = pools;
  }

  /** Resolves when `GET /-/healthy` answers 200 within `timeoutMs`. */
  async checkHealthy(target: string, timeoutMs: number): Promise<void> {
    await this.#call(target, { method: 'GET', path: '/-/healthy' }, timeoutMs);
  }

  async listGroups(target: string, timeoutMs: number): Promise<ApiGroup[]> {
    const body = await this.#call(target, { method: 'GET', path: '/api/v1/metrics' }, timeoutMs);
    const parsed = JSON.parse(body) as MetricsApiResponse;
    if (parsed.status !== 'success' || !Array.isArray(parsed.data)) {
      throw new PushgatewayHttpError(target, 200, 'unexpected /api/v1/metrics answer');
    }
    return [...parsed.data];
  }

  /** PUT (replace) or POST (merge) a text-format body at `path`. */
  async push(target: string, method: 'PUT' | 'POST', path: string, body: string, timeoutMs: number): Promise<void> {
    await this.#call(target, { method, path, body, headers: { 'content-type': 'text/plain; version=0.0.4' } }, timeoutMs);
  }

  async delete(target: string, path: string, timeoutMs: number): Promise<void> {
    await this.#call(target, { method: 'DELETE', path }, timeoutMs);
  }

  async wipe(target: string, timeoutMs: number): Promise<void> {
    await this.#call(target, { method: 'PUT', path: '/api/v1/admin/wipe' }, timeoutMs);
  }

  async #call(target: string, opts: Omit<Dispatcher.RequestOptions, 'signal'>, timeoutMs: number): Promise<string> {
    const res = await this.#pools.get(target).request({ ...opts, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.body.text();
    if (res.statusCode < 200 || res.statusCode >= 300) throw new PushgatewayHttpError(target, res.statusCode, text);
    return text;
  }
}
