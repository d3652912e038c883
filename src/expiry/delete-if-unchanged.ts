/**
 * Deletes groups only if nobody pushed them since they were read: the
 * operation behind expiry sweeps and bulk delete (DELETE /api/v1/groups).
 *
 * Per shard, in batches, under the batch's exclusive group locks (no push
 * of those groups is in flight, new ones wait): re-read the shard once, and
 * delete a group only if
 *  - its push target is still the shard it was read on (not moved since),
 *  - its copy there still has the `push_time_seconds` that was read,
 *  - the coordinator's last acknowledged client push of it is still the one
 *    that was read (a push acknowledged since changes it), and
 *  - no write of it is in doubt (a timed-out push may still land).
 * The delete goes where a client DELETE goes: the push target and every
 * other configured shard, reported to the coordinator exactly as the push
 * path reports a client DELETE (writeBegins / writeEnds / deleteMissed), so
 * the copy ledger treats it as one: no stale copy is adopted after it.
 *
 * Contract: a push acknowledged after the read is never deleted; a push
 * that arrives during the batch waits for it, then lands after the delete
 * (Pushgateway applies writes in the order received) and re-creates the group.
 */
import { type GroupingKey, groupId } from '../groupingkey/grouping-key.js';
import { upstreamPath } from '../groupingkey/upstream-path.js';
import { type GroupLocks } from '../rebalance/group-locks.js';
import { type WriteObserver } from '../proxy/push-router.js';
import { pushTarget, type RoutingTable } from '../proxy/push-target.js';
import { type ShardClient } from '../upstream/shard-client.js';
import { pushTimeOf, readGroupingKey } from '../upstream/group-facts.js';

/** A group as it was read, to be deleted only if still so. */
export interface ReadGroup {
  readonly key: GroupingKey;
  /** The shard it was read on (its push target then). */
  readonly shard: string;
  readonly pushTimeSeconds: number | undefined;
  /** The coordinator's lastClientPush(id) when it was read. */
  readonly lastClientPushMs: number | undefined;
}

/** deleted: gone from every shard; skipped: pushed or moved since it was read; gone: already absent; failed: a read or the delete failed. */
export type DeleteOutcome = 'deleted' | 'skipped' | 'gone' | 'failed';

export interface DeleteObserver extends Pick<WriteObserver, 'writeBegins' | 'writeEnds' | 'deleteFanOut' | 'deleteMissed' | 'inDoubt'> {
  lastClientPush(id: string): number | undefined;
}

export interface DeleteIfUnchangedDeps {
  readonly locks: GroupLocks;
  readonly routing: () => RoutingTable;
  readonly client: ShardClient;
  readonly observer: DeleteObserver;
  readonly timeoutMs: number;
  /** Groups held at once; pushes of them wait for the batch (default 200). */
  readonly batchSize?: number;
  /** Deletes in flight at once within a batch (default 8). */
  readonly concurrency?: number;
  /**
   * Several replicas: resolves once this replica may write to the shards on
   * its own (the leader holds the write fence, replicas/write-fence.ts).
   * Awaited before the first batch; each batch re-reads its shard after it,
   * so a follower's direct push before the fence is seen.
   */
  readonly beforeWrites?: () => Promise<void>;
  /** Replication: deletes the group's standby copies too (StandbyWriter.mirror), so it never comes back from one. */
  readonly deleteStandby?: (key: GroupingKey, path: string) => Promise<void>;
}

export interface DeleteResult {
  readonly group: ReadGroup;
  readonly outcome: DeleteOutcome;
}

export async function deleteIfUnchanged(deps: DeleteIfUnchangedDeps, groups: readonly ReadGroup[]): Promise<DeleteResult[]> {
  const byShard = new Map<string, ReadGroup[]>();
  for (const g of groups) byShard.set(g.shard, [...(byShard.get(g.shard) ?? []), g]);
  if (groups.length > 0) await deps.beforeWrites?.();
  const size = deps.batchSize ?? 200;
  const perShard = await Promise.all(
    [...byShard].map(async ([shard, list]) => {
      const out: DeleteResult[] = [];
      for (let i = 0; i < list.length; i += size) out.push(...(await deleteBatch(deps, shard, list.slice(i, i + size))));
      return out;
    }),
  );
  return perShard.flat();
}

async function deleteBatch(deps: DeleteIfUnchangedDeps, shard: string, batch: readonly ReadGroup[]): Promise<DeleteResult[]> {
  const ids = batch.map((g) => groupId(g.key));
  return deps.locks.withExclusive(ids, async () => {
    let now: Map<string, number | undefined>;
    try {
      now = new Map();
      for (const g of await deps.client.listGroups(shard, deps.timeoutMs)) {
        const key = readGroupingKey(g);
        if (key !== undefined) now.set(groupId(key), pushTimeOf(g));
      }
    } catch {
      return batch.map((group) => ({ group, outcome: 'failed' as const }));
    }
    const results: DeleteResult[] = [];
    const todo: ReadGroup[] = [];
    batch.forEach((group, i) => {
      const id = ids[i] ?? '';
      const outcome = standing(deps, shard, group, id, now);
      if (outcome === undefined) todo.push(group);
      else results.push({ group, outcome });
    });
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < todo.length) {
        const group = todo[next++];
        if (group !== undefined) results.push({ group, outcome: await deleteEverywhere(deps, shard, group) });
      }
    };
    await Promise.all(Array.from({ length: Math.min(deps.concurrency ?? 8, todo.length) }, worker));
    return results;
  });
}

/** Why the group must be left alone, or undefined when it is unchanged since it was read. */
function standing(deps: DeleteIfUnchangedDeps, shard: string, group: ReadGroup, id: string, now: ReadonlyMap<string, number | undefined>): DeleteOutcome | undefined {
  if (deps.observer.inDoubt(id) !== undefined) return 'skipped';
  if (deps.observer.lastClientPush(id) !== group.lastClientPushMs) return 'skipped';
  if (pushTarget(deps.routing(), group.key, id) !== shard) return 'skipped';
  if (!now.has(id)) return 'gone';
  if (now.get(id) !== group.pushTimeSeconds) return 'skipped';
  return undefined;
}

/** A client DELETE, as the push path sends it: the target and, at the same time, every other configured shard. */
async function deleteEverywhere(deps: DeleteIfUnchangedDeps, target: string, group: ReadGroup): Promise<DeleteOutcome> {
  const { observer, client, timeoutMs } = deps;
  const id = groupId(group.key);
  const path = upstreamPath(group.key);
  const others = observer.deleteFanOut(target);
  const fanOut = Promise.allSettled([
    ...others.map((o) => (o.reachable ? client.delete(o.shard, path, timeoutMs) : Promise.reject(new Error('unreachable')))),
    // Last, so the indexes above still match `others`; a standby that missed it is covered by the writer's tombstone.
    ...(deps.deleteStandby === undefined ? [] : [deps.deleteStandby(group.key, path)]),
  ]);
  observer.writeBegins(id, group.key, target);
  let acknowledged = false;
  try {
    await client.delete(target, path, timeoutMs);
    acknowledged = true;
  } catch {
    // Not acknowledged: the ledger learns nothing, a later sweep or request retries.
  } finally {
    observer.writeEnds(id, group.key, target, 'DELETE', acknowledged);
  }
  const settled = await fanOut;
  if (!acknowledged) return 'failed';
  others.forEach((o, i) => {
    if (settled[i]?.status === 'rejected') observer.deleteMissed(id, o.shard);
  });
  return 'deleted';
}
