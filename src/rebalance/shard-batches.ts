/**
 * How a round reads and acts on shards: every reachable shard read at once,
 * and actions batched per source shard under the groups' exclusive locks,
 * each batch re-reading its source once. Each action fails on its own.
 */
import { type ApiGroup } from '../upstream/metrics-api.js';
import { type ShardClient } from '../upstream/shard-client.js';
import { errorMessage } from '../upstream/upstream-error.js';
import { groupId } from '../groupingkey/grouping-key.js';
import { readGroupingKey } from '../upstream/group-facts.js';
import { type RebalanceAction } from './plan.js';
import { type GroupLocks } from './group-locks.js';

/** Where a failed action or read is reported, by the shard it concerned. */
export type ReportFailure = (shard: string, message: string) => void;

export interface ShardAccess {
  readonly client: ShardClient;
  readonly locks: GroupLocks;
  readonly concurrency: number;
  readonly timeoutMs: number;
}

/**
 * Actions per batch: each batch re-reads its source's whole store, so a
 * batch covers at least a tenth of that store (at most ~10 re-reads per
 * source and round) and at least 100 actions. Pushes to a batch's groups
 * wait while it runs, so batches are not made larger than that.
 */
export const MIN_BATCH = 100;
export const batchSize = (storeSize: number): number => Math.max(MIN_BATCH, Math.ceil(storeSize / 10));

/**
 * Runs `act` for every action, batched per source shard: lock the batch's
 * groups, re-read the source once, then act on each group's current copy
 * there (undefined when it is gone). Batches of different sources run
 * concurrently up to `deps.concurrency`. Each action fails on its own.
 */
export async function inBatches<A extends RebalanceAction>(
  deps: ShardAccess,
  batchSizes: ReadonlyMap<string, number>,
  actions: readonly A[],
  fail: ReportFailure,
  act: (action: A, current: ApiGroup | undefined) => Promise<void>,
): Promise<void> {
  const batches: A[][] = [];
  const bySource = new Map<string, A[]>();
  for (const a of actions) {
    const list = bySource.get(a.from);
    if (list === undefined) bySource.set(a.from, [a]);
    else list.push(a);
  }
  for (const [source, list] of bySource) {
    const size = batchSizes.get(source) ?? MIN_BATCH;
    for (let i = 0; i < list.length; i += size) batches.push(list.slice(i, i + size));
  }
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let batch = batches[next++]; batch !== undefined; batch = batches[next++]) {
      const source = batch[0]?.from ?? '';
      const todo = batch;
      try {
        await deps.locks.withExclusive(
          todo.map((a) => a.id),
          async () => {
            const current = indexed(await deps.client.listGroups(source, deps.timeoutMs));
            for (const action of todo) {
              try {
                await act(action, current.byId.get(action.id));
              } catch (err) {
                fail(source, `${action.kind} ${JSON.stringify(action.key)}: ${errorMessage(err)}`);
              }
            }
          },
        );
      } catch (err) {
        fail(source, `cannot read: ${errorMessage(err)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(deps.concurrency, batches.length)) }, worker));
}

/** One shard's groups as read, indexed by groupId. */
export interface ShardContents {
  readonly groups: readonly ApiGroup[];
  readonly byId: ReadonlyMap<string, ApiGroup>;
}

export async function readAll(deps: ShardAccess, targets: readonly string[], fail: ReportFailure): Promise<Map<string, ShardContents>> {
  const out = new Map<string, ShardContents>();
  await Promise.all(
    targets.map(async (t) => {
      try {
        out.set(t, indexed(await deps.client.listGroups(t, deps.timeoutMs)));
      } catch (err) {
        fail(t, `cannot read: ${errorMessage(err)}`);
      }
    }),
  );
  return out;
}

export function idOf(group: ApiGroup): string | undefined {
  const key = readGroupingKey(group);
  return key === undefined ? undefined : groupId(key);
}

function indexed(groups: readonly ApiGroup[]): ShardContents {
  const byId = new Map<string, ApiGroup>();
  for (const g of groups) {
    const id = idOf(g);
    if (id !== undefined) byId.set(id, g);
  }
  return { groups, byId };
}

