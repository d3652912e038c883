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
 *
 * A PUT or POST whose answer never came (in-rebalance/in-doubt-writes.ts)
 * is kept and completed: re-sent under the group's exclusive lock before
 * the group's next client POST, and by `completeInDoubt()` before every
 * rebalance round, so a late copy of it can never be merged out of order.
 */
import { type GroupingKey, groupId } from '../groupingkey/grouping-key.js';
import { upstreamPath } from '../groupingkey/upstream-path.js';
import { ShardgateError } from '../http/errors.js';
import { type GroupLocks } from '../rebalance/group-locks.js';
import { type InDoubtWrite, type Resend } from '../rebalance/in-doubt-writes.js';
import { pushTarget, type RoutingTable } from './push-target.js';

export type PushMethod = 'PUT' | 'POST' | 'DELETE';

/** What the push path reports to the coordinator (rebalance/coordinator.ts implements it). */
export interface WriteObserver {
  writeBegins(id: string, key: GroupingKey, target: string): void;
  writeEnds(id: string, key: GroupingKey, target: string, method: PushMethod, acknowledged: boolean): void;
  deleteFanOut(target: string): ReadonlyArray<{ readonly shard: string; readonly reachable: boolean }>;
  deleteMissed(id: string, shard: string): void;
  /** A PUT or POST of `id` was sent and its answer never came: keep it for completion. */
  writeInDoubt(id: string, write: InDoubtWrite): void;
  /** The group's write in doubt, if one waits for completion. */
  inDoubt(id: string): InDoubtWrite | undefined;
  /** What must happen before a POST of `id` lands on `target` (CopyLedger.beforePost): delete a stale copy, or wait. */
  beforePost(id: string, key: GroupingKey, target: string): 'stale' | 'older' | undefined;
  /** The router deleted `id`'s stale copy on `shard` before a POST. */
  staleCopyDeleted(id: string, shard: string): void;
  /** Every group with a write in doubt. */
  inDoubtIds(): readonly string[];
  /** The write in doubt was re-sent and acknowledged, refused for good, or followed by a write that cannot be completed. */
  inDoubtSettled(id: string, result: 'completed' | 'rejected' | 'superseded'): void;
  /**
   * Several replicas: resolves once what the acknowledged write taught the
   * coordinator is recorded where the next leader reads it; undefined when
   * there is nothing to wait for (the common case). A rejection turns the
   * client's answer into an error: the write landed, but may not survive a
   * change of leader.
   */
  durable?(): Promise<void> | undefined;
}

export interface PushRouterDeps {
  readonly locks: GroupLocks;
  readonly routing: () => RoutingTable;
  readonly observer: WriteObserver;
  /** DELETE on one other shard; rejects unless it answered 2xx. */
  readonly deleteOn: (target: string, path: string) => Promise<void>;
  /** Whether a failed send may still be applied by the pushgateway (response timeout, reset after sending). */
  readonly inDoubt: (err: unknown) => boolean;
  /**
   * Several replicas (replicas/local-writes.ts): asked at the last moment
   * before anything is sent to a shard; a release function if this replica
   * may write now (called when the write is answered), undefined if not.
   */
  readonly localWrites?: { enter(): (() => void) | undefined };
  /**
   * Several replicas: whether `target` is one of this replica's configured
   * targets. The ring a follower routes by can still name a target a reload
   * just removed (until the leader drops it): its writes would be lost with it.
   */
  readonly configured?: (target: string) => boolean;
}

const FENCED = 'this shardgate replica may not write to the pushgateways now (its coordination session lapsed, or the fleet is being rebalanced and writes go through the leader); retry';

export class PushRouter {
  readonly #deps: PushRouterDeps;

  constructor(deps: PushRouterDeps) {
    this.#deps = deps;
  }

  /**
   * Sends one push to its group's target through `send` and returns what
   * `send` returns; a `statusCode` in 2xx means the pushgateway acknowledged
   * it. `retry`, when given, re-sends the same PUT or POST (a buffered
   * body of `bytes`): kept if the answer never comes. Throws SHARDGATE_NO_HEALTHY_SHARD
   * when nothing can take it, SHARDGATE_EARLIER_PUSH_IN_DOUBT when a POST
   * would land on top of an earlier write that cannot be completed yet, and
   * SHARDGATE_GROUP_RECONCILING when it would land on a copy older than the
   * group (CopyLedger.beforePost). Nothing of the push is sent then.
   */
  async route<T extends { readonly statusCode: number }>(method: PushMethod, key: GroupingKey, send: (target: string, path: string) => Promise<T>, retry?: { readonly resend: Resend; readonly bytes: number }): Promise<T> {
    const id = groupId(key);
    const { observer } = this.#deps;
    // A POST merges into what is there, so an earlier write in doubt must be settled first.
    // (A PUT or DELETE supersedes it; its acknowledgement forgets it.)
    if (method === 'POST') {
      if (observer.inDoubt(id) !== undefined && !(await this.#complete(id))) {
        throw new ShardgateError('SHARDGATE_EARLIER_PUSH_IN_DOUBT', 'an earlier push of this group got no answer from its pushgateway and could not be completed yet; retry later');
      }
      const target = pushTarget(this.#deps.routing(), key, id);
      if (target !== undefined && observer.beforePost(id, key, target) === 'stale') await this.#deleteStale(id, key);
    }
    const wait = this.#deps.locks.acquireShared(id);
    if (wait) await wait;
    try {
      // Read the routing only once the lock is held: a move that just finished has updated it.
      const target = pushTarget(this.#deps.routing(), key, id);
      if (target === undefined) {
        throw new ShardgateError('SHARDGATE_NO_HEALTHY_SHARD', 'no healthy pushgateway available: every configured shard is down or none is configured');
      }
      if (this.#deps.configured?.(target) === false) {
        throw new ShardgateError('SHARDGATE_NO_HEALTHY_SHARD', `the group's pushgateway ${target} is no longer configured and the leader has not moved its groups yet; retry`);
      }
      if (method === 'POST') {
        const blocker = observer.beforePost(id, key, target);
        if (blocker === 'older') {
          throw new ShardgateError('SHARDGATE_GROUP_RECONCILING', `the group's newest content is on a shard that cannot be reached yet, and ${target} holds an older copy a POST would land on; retry later, or PUT the whole group`);
        }
        // The routing changed since the stale copy was cleaned: the next attempt cleans the new target.
        if (blocker === 'stale') throw new ShardgateError('SHARDGATE_GROUP_RECONCILING', `${target} holds an older copy of the group that could not be removed yet; retry`);
      }
      const path = upstreamPath(key);
      const release = this.#enter();
      const fanOut = method === 'DELETE' ? this.#fanOutDelete(target, path) : undefined;
      observer.writeBegins(id, key, target);
      let acknowledged = false;
      let answer: T;
      try {
        answer = await send(target, path);
        acknowledged = answer.statusCode >= 200 && answer.statusCode < 300;
      } catch (err) {
        if (this.#deps.inDoubt(err)) {
          // The latest write in doubt is the one to complete; a DELETE in doubt cannot be re-sent (its fan-out
          // is gone), and an earlier write completed after it would reorder them: nothing is kept then.
          if (method === 'DELETE') observer.inDoubtSettled(id, 'superseded');
          else if (retry !== undefined) observer.writeInDoubt(id, { key, method, ...retry });
          else observer.inDoubtSettled(id, 'superseded');
        }
        throw err;
      } finally {
        observer.writeEnds(id, key, target, method, acknowledged);
        const missed = fanOut === undefined ? [] : await fanOut;
        release();
        if (acknowledged) for (const shard of missed) observer.deleteMissed(id, shard);
      }
      if (acknowledged) await this.#durable();
      return answer;
    } finally {
      this.#deps.locks.releaseShared(id);
    }
  }

  /** See WriteObserver.durable. */
  async #durable(): Promise<void> {
    const pending = this.#deps.observer.durable?.();
    if (pending === undefined) return;
    try {
      await pending;
    } catch (err) {
      throw new ShardgateError('SHARDGATE_NO_LEADER', `the push reached its pushgateway, but the leader could not record it in the coordination store (${err instanceof Error ? err.message : String(err)}); retry`, true);
    }
  }

  /** Counts a write with LocalWrites; throws SHARDGATE_REPLICA_FENCED when this replica may not write. */
  #enter(): () => void {
    const gate = this.#deps.localWrites;
    if (gate === undefined) return NOTHING;
    const release = gate.enter();
    if (release === undefined) throw new ShardgateError('SHARDGATE_REPLICA_FENCED', FENCED);
    return release;
  }

  /** Completes every write in doubt it can, one group at a time; the rebalancer calls it before each round. */
  async completeInDoubt(): Promise<void> {
    // A shard that fails one completion is skipped for the rest of this pass: a hung shard costs one
    // timeout per round, not one per write kept for it.
    const failed = new Set<string>();
    for (const id of this.#deps.observer.inDoubtIds()) await this.#complete(id, failed);
  }

  /** Under the group's exclusive lock: deletes the stale copy a POST would land on (see #clearForPost). */
  #deleteStale(id: string, key: GroupingKey): Promise<void> {
    return this.#deps.locks.withExclusive([id], async () => {
      const target = pushTarget(this.#deps.routing(), key, id);
      // A failure leaves the mark: the POST is refused under the shared lock and the client retries.
      if (target !== undefined) await this.#clearForPost(id, key, target);
    });
  }

  /**
   * Makes `target` ready for a POST of the group, with the group's exclusive
   * lock held: a copy the coordinator knows is older than the group (or a
   * stray on a failover target) is deleted first. False when the POST must
   * not go there now (an older base waits for a merge, or the delete failed).
   */
  async #clearForPost(id: string, key: GroupingKey, target: string): Promise<boolean> {
    const { observer } = this.#deps;
    const blocker = observer.beforePost(id, key, target);
    if (blocker === undefined) return true;
    if (blocker === 'older') return false;
    const release = this.#deps.localWrites === undefined ? NOTHING : this.#deps.localWrites.enter();
    if (release === undefined) return false;
    const deleted = await this.#deps.deleteOn(target, upstreamPath(key)).then(
      () => true,
      () => false,
    );
    release();
    if (deleted) observer.staleCopyDeleted(id, target);
    return deleted;
  }

  /**
   * Re-sends the group's write in doubt to its push target, under the
   * group's exclusive lock: no client write of the group is in flight, so
   * the completion lands exactly between the writes before and after it.
   * Resolves true when nothing is left in doubt.
   */
  #complete(id: string, failedTargets?: Set<string>): Promise<boolean> {
    const { observer, locks } = this.#deps;
    return locks.withExclusive([id], async () => {
      const write = observer.inDoubt(id);
      if (write === undefined) return true;
      const target = pushTarget(this.#deps.routing(), write.key, id);
      if (target === undefined || failedTargets?.has(target) === true) return false;
      // A POST re-sent obeys what a client's POST obeys: never layered on an older copy.
      if (write.method === 'POST' && !(await this.#clearForPost(id, write.key, target))) {
        failedTargets?.add(target);
        return false;
      }
      const release = this.#deps.localWrites === undefined ? NOTHING : this.#deps.localWrites.enter();
      if (release === undefined) return false;
      observer.writeBegins(id, write.key, target);
      let status = 0;
      try {
        status = (await write.resend(target, upstreamPath(write.key))).statusCode;
      } catch {
        // Still in doubt (or not sent): kept for the next attempt.
        failedTargets?.add(target);
      } finally {
        release();
      }
      const acknowledged = status >= 200 && status < 300;
      // A 4xx is the pushgateway's final word on this body: nothing left to complete.
      const settled = status >= 200 && status < 500;
      if (settled) observer.inDoubtSettled(id, acknowledged ? 'completed' : 'rejected');
      observer.writeEnds(id, write.key, target, write.method, acknowledged);
      return settled;
    });
  }

  /** Resolves with the shards where the delete could not be confirmed. */
  async #fanOutDelete(target: string, path: string): Promise<string[]> {
    const others = this.#deps.observer.deleteFanOut(target);
    const results = await Promise.allSettled(others.map((o) => (o.reachable ? this.#deps.deleteOn(o.shard, path) : Promise.reject(new Error('unreachable')))));
    return others.filter((_, i) => results[i]?.status === 'rejected').map((o) => o.shard);
  }
}

const NOTHING = (): void => undefined;
