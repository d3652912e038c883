/**
 * The routing core of a push, without HTTP: hold the group's lock (shared)
 * for the whole exchange, read the routing once the lock is held, send to
 * the group's push target. The HTTP edge (push-proxy.ts) and the
 * deterministic simulation both drive this class, so the simulation runs the
 * same locking and routing as production.
 */
import { type GroupingKey, groupId } from '../groupingkey/grouping-key.js';
import { upstreamPath } from '../groupingkey/upstream-path.js';
import { ShardgateError } from '../http/errors.js';
import { type GroupLocks } from '../rebalance/group-locks.js';
import { pushTarget, type RoutingTable } from './push-target.js';

export type PushMethod = 'PUT' | 'POST' | 'DELETE';

export interface PushRouterDeps {
  readonly locks: GroupLocks;
  readonly routing: () => RoutingTable;
  /** DELETE on one other shard (a copy left there must not outlive the client's delete). */
  readonly deleteOn: (target: string, path: string) => Promise<void>;
}

export class PushRouter {
  readonly #deps: PushRouterDeps;

  constructor(deps: PushRouterDeps) {
    this.#deps = deps;
  }

  /**
   * Sends one push to its group's target through `send` and returns what
   * `send` returns. Throws SHARDGATE_NO_HEALTHY_SHARD when nothing can take it.
   */
  async route<T>(method: PushMethod, key: GroupingKey, send: (target: string, path: string) => Promise<T>): Promise<T> {
    const id = groupId(key);
    const wait = this.#deps.locks.acquireShared(id);
    if (wait) await wait;
    try {
      // Read the routing only once the lock is held: a move that just finished has updated it.
      const routing = this.#deps.routing();
      const target = pushTarget(routing, key, id);
      if (target === undefined) {
        throw new ShardgateError('SHARDGATE_NO_HEALTHY_SHARD', 'no healthy pushgateway available: every configured shard is down or none is configured');
      }
      const path = upstreamPath(key);
      if (method === 'DELETE') {
        for (const member of routing.ring.members) {
          // Best effort: the sweep catches what this misses.
          if (member !== target) this.#deps.deleteOn(member, path).catch(() => undefined);
        }
      }
      return await send(target, path);
    } finally {
      this.#deps.locks.releaseShared(id);
    }
  }
}
