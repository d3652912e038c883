/**
 * What background work (health checks, reads, rebalancing) needs from a
 * pushgateway. PushgatewayClient speaks HTTP; the simulation implements the
 * same contract over in-memory stores.
 *
 * Contract: every call settles within `timeoutMs` (plus scheduling); a
 * non-2xx answer rejects with PushgatewayHttpError. A call that rejects for
 * any other reason (timeout, reset) may still have been applied, or be
 * applied later: callers treat it as in doubt.
 */
import { type ApiGroup } from './metrics-api.js';

export interface ShardClient {
  /** Resolves when the pushgateway answers `GET /-/healthy` with 200. */
  checkHealthy(target: string, timeoutMs: number): Promise<void>;
  /** Every group the pushgateway holds (`GET /api/v1/metrics`). */
  listGroups(target: string, timeoutMs: number): Promise<ApiGroup[]>;
  /** PUT (replace) or POST (merge) a text-format body at a push path. */
  push(target: string, method: 'PUT' | 'POST', path: string, body: string, timeoutMs: number): Promise<void>;
  delete(target: string, path: string, timeoutMs: number): Promise<void>;
}
