/**
 * The routing core of a push, without HTTP: hold the group's lock (shared)
 * for the whole exchange, read the routing once the lock is held, send to
 * the group's push target, and tell the coordinator what was routed where
 * and whether the pushgateway acknowledged it. The HTTP edge
 * (push-proxy.ts) and the deterministic simulation both drive this class.
 *
 * DELETE also goes to every other configured shard, awaited under the same
 * lock: a copy left elsewhere must not outlive the client's delete, and a
 * fan-out must never reach a shard after a move put the group there. Shards
 * it cannot confirm are reported as holding a stale copy.
 */
import { type GroupingKey, groupId } from '../groupingkey/grouping-key.js';
import { upstreamPath } from '../groupingkey/upstream-path.js';
import { ShardgateError } from '../http/errors.js';
import { type GroupLocks } from '../rebalance/group-locks.js';
import { pushTarget, type RoutingTable } from './push-target.js';

export type PushMethod = 'PUT' | 'POST' | 'DELETE';

/** What the push path reports to the coordinator (rebalance/coordinator.ts implements it). */
export interface WriteObserver {
  writeBegins(id: string, key: GroupingKey, target: string): void;
  writeEnds(id: string, key: GroupingKey, target: string, method: PushMethod, acknowledged: boolean): void;
  deleteFanOut(target: string): ReadonlyArray<{ readonly shard: string; readonly reachable: boolean }>;
  deleteMissed(id: string, shard: string): void;
}

export interface PushRouterDeps {
  readonly locks: GroupLocks;
  readonly routing: () => RoutingTable;
  readonly observer: WriteObserver;
  /** DELETE on one other shard; rejects unless it answered 2xx. */
  readonly deleteOn: (target: string, path: string) => Promise<void>;
}

export class PushRouter {
  readonly #deps: PushRouterDeps;

  constructor(deps: PushRouterDeps) {
    this.#deps = deps;
  }

  /**
   * Sends one push to its group's target through `send` and returns what
   * `send` returns; a `statusCode` in 2xx means the pushgateway acknowledged
   * it. Throws SHARDGATE_NO_HEALTHY_SHARD when nothing can take it.
   */
  async route<T extends { readonly statusCode: number }>(method: PushMethod, key: GroupingKey, send: (target: string, path: string) => Promise<T>): Promise<T> {
    const id = groupId(key);
    const wait = this.#deps.locks.acquireShared(id);
    if (wait) await wait;
    try {
      // Read the routing only once the lock is held: a move that just finished has updated it.
      const target = pushTarget(this.#deps.routing(), key, id);
      if (target === undefined) {
        throw new ShardgateError('SHARDGATE_NO_HEALTHY_SHARD', 'no healthy pushgateway available: every configured shard is down or none is configured');
      }
      const path = upstreamPath(key);
      const { observer } = this.#deps;
      const fanOut = method === 'DELETE' ? this.#fanOutDelete(id, target, path) : undefined;
      observer.writeBegins(id, key, target);
      let acknowledged = false;
      try {
        const answer = await send(target, path);
        acknowledged = answer.statusCode >= 200 && answer.statusCode < 300;
        return answer;
      } finally {
        observer.writeEnds(id, key, target, method, acknowledged);
        const missed = fanOut === undefined ? [] : await fanOut;
        if (acknowledged) for (const shard of missed) observer.deleteMissed(id, shard);
      }
    } finally {
      this.#deps.locks.releaseShared(id);
    }
  }

  /** Resolves with the shards where the delete could not be confirmed. */
  async #fanOutDelete(id: string, target: string, path: string): Promise<string[]> {
    const others = this.#deps.observer.deleteFanOut(target);
    const results = await Promise.allSettled(others.map((o) => (o.reachable ? this.#deps.deleteOn(o.shard, path) : Promise.reject(new Error('unreachable')))));
    return others.filter((_, i) => results[i]?.status === 'rejected').map((o) => o.shard);
  }
}
