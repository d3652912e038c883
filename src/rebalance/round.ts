/**
 * One rebalance round: read every reachable shard, plan against the next
 * ring, and carry the plan out so that Prometheus never scrapes a stale copy
 * and no client write is lost:
 *
 *  A. Stale copies (`delete-stray`) are deleted first, each only if its push
 *     time is still the one planned on (re-read under the group's lock).
 *  B. Under the locks of every group to move: re-read each destination; a
 *     destination that received a client write since the snapshot keeps it
 *     (the move becomes a delete of the older copy), a stale copy there is
 *     deleted. Then the next ring is published, with an override that keeps
 *     routing each not-yet-moved group to the shard that holds it.
 *  C. Moves, batched per source under the groups' locks: re-read the source,
 *     PUT the current copy to the owner, and only after the owner confirmed
 *     it, DELETE the source copy and drop the override.
 *
 * A shard that cannot be read or written leaves its data in place; the
 * round reports it and a later round retries.
 */
import { type ApiGroup } from '../upstream/metrics-api.js';
import { type ShardClient } from '../upstream/shard-client.js';
import { errorMessage } from '../upstream/upstream-error.js';
import { groupId } from '../groupingkey/grouping-key.js';
import { upstreamPath } from '../groupingkey/upstream-path.js';
import { type Ring } from '../ring/ring.js';
import { planRebalance, type MoveAction, type RebalanceAction } from './plan.js';
import { groupToExposition } from './exposition.js';
import { pushTimeOf, readGroupingKey } from '../upstream/group-facts.js';
import { type GroupLocks } from './group-locks.js';
import { type RateLimiter } from './rate-limiter.js';

export interface RoundDeps {
  readonly client: ShardClient;
  readonly locks: GroupLocks;
  readonly limiter: RateLimiter;
  readonly concurrency: number;
  readonly timeoutMs: number;
  /** Makes `ring` the routing, with `overrides` (groupId → holder) for groups not moved yet. */
  readonly publish: (ring: Ring, overrides: ReadonlyMap<string, string>) => void;
  /** Drops one override once its group has moved (or vanished). */
  readonly settle: (groupId: string) => void;
}

export interface RoundResult {
  readonly groupsSeen: number;
  readonly moved: number;
  readonly deleted: number;
  /** Actions left alone because the data changed under us; a later round re-plans them. */
  readonly skipped: number;
  readonly failures: string[];
  /** Groups still held, per target read in this round (after its actions). */
  readonly remaining: ReadonlyMap<string, number>;
}

/**
 * Actions per batch: each batch re-reads its source's whole store, so a
 * batch covers at least a tenth of that store (at most ~10 re-reads per
 * source and round) and at least 100 actions. Pushes to a batch's groups
 * wait while it runs, so batches are not made larger than that.
 */
const MIN_BATCH = 100;
const batchSize = (storeSize: number): number => Math.max(MIN_BATCH, Math.ceil(storeSize / 10));

export async function runRound(deps: RoundDeps, next: Ring, sources: readonly string[]): Promise<RoundResult> {
  const failures: string[] = [];
  const snapshot = await readAll(deps, sources, failures);
  const plan = planRebalance(next, new Map([...snapshot].map(([t, r]) => [t, r.groups])));
  const counts = { moved: 0, deleted: 0, skipped: 0 };
  const held = new Map([...snapshot].map(([t, r]) => [t, r.groups.length]));
  const removed = (target: string): void => void held.set(target, (held.get(target) ?? 1) - 1);

  /** Deletes the copy on `from` unless it was written since it was planned on. */
  const deleteIfUnchanged = async (action: RebalanceAction, current: ApiGroup): Promise<void> => {
    if (pushTimeOf(current) !== action.pushTime) return void counts.skipped++;
    await deps.client.delete(action.from, upstreamPath(action.key), deps.timeoutMs);
    counts.deleted++;
    removed(action.from);
  };

  // A. stale copies go first: nothing may expose them once the ring changes.
  const deletes = plan.filter((a) => a.kind === 'delete-stray');
  const sizes = new Map([...snapshot].map(([t, r]) => [t, batchSize(r.groups.length)]));
  await inBatches(deps, sizes, deletes, async (action, current) => {
    if (current !== undefined) await deleteIfUnchanged(action, current);
  }, failures);

  // B. settle the destinations, then publish the ring with overrides.
  const moves = plan.filter((a): a is MoveAction => a.kind === 'move');
  const moveIds = moves.map((m) => groupId(m.key));
  const overrides = new Map<string, string>();
  const demoted: RebalanceAction[] = [];
  const ready: MoveAction[] = [];
  await deps.locks.acquireExclusive(moveIds);
  try {
    const destinations = await readAll(deps, [...new Set(moves.map((m) => m.to))], failures);
    for (const move of moves) {
      const id = groupId(move.key);
      const now = destinations.get(move.to);
      if (now === undefined) {
        // Destination unreadable: keep routing the group to where it is; a later round moves it.
        overrides.set(id, move.from);
        continue;
      }
      const was = snapshot.get(move.to)?.byId.get(id);
      const is = now.byId.get(id);
      if (is !== undefined && (was === undefined || pushTimeOf(is) !== pushTimeOf(was))) {
        // A client wrote to the owner since the snapshot: its write wins.
        demoted.push({ kind: 'delete-stray', id: move.id, key: move.key, from: move.from, to: move.to, pushTime: move.pushTime });
        continue;
      }
      if (is !== undefined) {
        await deps.client.delete(move.to, upstreamPath(move.key), deps.timeoutMs);
        counts.deleted++;
        removed(move.to);
      }
      overrides.set(id, move.from);
      ready.push(move);
    }
    deps.publish(next, overrides);
  } finally {
    deps.locks.releaseExclusive(moveIds);
  }

  // C. moves (and demoted deletes), batched per source.
  const work: RebalanceAction[] = [...ready, ...demoted];
  await inBatches(deps, sizes, work, async (action, current) => {
    const id = groupId(action.key);
    if (current === undefined) return deps.settle(id);
    if (action.kind === 'delete-stray') return deleteIfUnchanged(action, current);
    await deps.limiter.take();
    const path = upstreamPath(action.key);
    try {
      await deps.client.push(action.to, 'PUT', path, groupToExposition(current), deps.timeoutMs);
    } catch (err) {
      // A rejected copy may leave an empty, failed group on the owner; remove it.
      await deps.client.delete(action.to, path, deps.timeoutMs).catch(() => undefined);
      throw err;
    }
    await deps.client.delete(action.from, path, deps.timeoutMs);
    deps.settle(id);
    counts.moved++;
    removed(action.from);
  }, failures);

  return { groupsSeen: [...snapshot.values()].reduce((n, r) => n + r.groups.length, 0), ...counts, failures, remaining: held };
}

/**
 * Runs `act` for every action, batched per source shard: lock the batch's
 * groups, re-read the source once, then act on each group's current copy
 * there (undefined when it is gone). Batches of different sources run
 * concurrently up to `deps.concurrency`.
 */
async function inBatches(
  deps: RoundDeps,
  batchSizes: ReadonlyMap<string, number>,
  actions: readonly RebalanceAction[],
  act: (action: RebalanceAction, current: ApiGroup | undefined) => Promise<void>,
  failures: string[],
): Promise<void> {
  const batches: RebalanceAction[][] = [];
  const bySource = new Map<string, RebalanceAction[]>();
  for (const a of actions) bySource.set(a.from, [...(bySource.get(a.from) ?? []), a]);
  for (const [source, list] of bySource) {
    const size = batchSizes.get(source) ?? MIN_BATCH;
    for (let i = 0; i < list.length; i += size) batches.push(list.slice(i, i + size));
  }
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let b = batches[next++]; b !== undefined; b = batches[next++]) {
      const batch = b;
      const ids = batch.map((a) => groupId(a.key));
      const source = batch[0]?.from ?? '';
      await deps.locks.acquireExclusive(ids);
      try {
        const current = indexed(await deps.client.listGroups(source, deps.timeoutMs));
        for (const action of batch) {
          try {
            await act(action, current.byId.get(groupId(action.key)));
          } catch (err) {
            failures.push(`${source}: ${action.kind} ${JSON.stringify(action.key)}: ${errorMessage(err)}`);
          }
        }
      } catch (err) {
        failures.push(`${source}: cannot read: ${errorMessage(err)}`);
      } finally {
        deps.locks.releaseExclusive(ids);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(deps.concurrency, batches.length)) }, worker));
}

/** One shard's groups as read, indexed by groupId. */
interface ShardContents {
  readonly groups: readonly ApiGroup[];
  readonly byId: ReadonlyMap<string, ApiGroup>;
}

async function readAll(deps: RoundDeps, targets: readonly string[], failures: string[]): Promise<Map<string, ShardContents>> {
  const out = new Map<string, ShardContents>();
  await Promise.all(
    targets.map(async (t) => {
      try {
        out.set(t, indexed(await deps.client.listGroups(t, deps.timeoutMs)));
      } catch (err) {
        failures.push(`${t}: cannot read: ${errorMessage(err)}`);
      }
    }),
  );
  return out;
}

function indexed(groups: readonly ApiGroup[]): ShardContents {
  const byId = new Map<string, ApiGroup>();
  for (const g of groups) {
    const key = readGroupingKey(g);
    if (key !== undefined) byId.set(groupId(key), g);
  }
  return { groups, byId };
}
