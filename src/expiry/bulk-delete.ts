/**
 * Groups selected by Prometheus selectors across the fleet
 * (`GET /api/v1/groups?match[]=...`), and their deletion
 * (`DELETE` on the same URL): a group matches when any selector matches its
 * grouping labels. Deletion is delete-if-unchanged against this same
 * request's listing, so a group pushed after the listing survives.
 */
import { toSortedRecord } from '../groupingkey/grouping-key.js';
import { pushTarget } from '../proxy/push-target.js';
import { readFleetGroups, type GroupCopy } from './fleet-groups.js';
import { deleteIfUnchanged, type DeleteIfUnchangedDeps, type DeleteOutcome, type ReadGroup } from './delete-if-unchanged.js';
import { type Selector, selects } from './selector.js';

export interface BulkDeps extends DeleteIfUnchangedDeps {
  /** Shards to read (up, or answering again). */
  readonly shards: () => readonly string[];
}

export interface ListedGroup {
  readonly labels: Record<string, string>;
  readonly shard: string;
  /** Whether pushes of the group go to this shard (false: a copy the rebalancer has yet to move or delete). */
  readonly routed: boolean;
  readonly push_time_seconds: number | null;
}

export interface Listing {
  readonly copies: readonly GroupCopy[];
  readonly warnings: readonly string[];
}

export async function listSelected(deps: BulkDeps, selectors: readonly Selector[]): Promise<Listing> {
  const fleet = await readFleetGroups(deps.client, deps.shards(), deps.timeoutMs);
  const copies = fleet.copies.filter((c) => selectors.some((s) => selects(s, c.key)));
  return { copies, warnings: fleet.warnings };
}

export function describeListing(deps: BulkDeps, listing: Listing): ListedGroup[] {
  const routing = deps.routing();
  return listing.copies.map((c) => ({
    labels: toSortedRecord(c.key),
    shard: c.shard,
    routed: pushTarget(routing, c.key, c.id) === c.shard,
    push_time_seconds: c.pushTimeSeconds ?? null,
  }));
}

export type ShardCounts = Record<DeleteOutcome, number>;

export interface BulkDeleteResult {
  readonly total: ShardCounts;
  /** By the shard each group was listed on (its push target then). */
  readonly shards: Record<string, ShardCounts>;
  readonly warnings: readonly string[];
}

/**
 * Lists, then deletes each listed group whose copy sits where its pushes go,
 * if unchanged since the listing (every other copy goes with it, by the
 * fan-out). Copies found only off their push target are counted as skipped:
 * the rebalancer resolves those.
 */
export async function deleteSelected(deps: BulkDeps, selectors: readonly Selector[]): Promise<BulkDeleteResult> {
  const listing = await listSelected(deps, selectors);
  const routing = deps.routing();
  const { observer } = deps;
  const toDelete: ReadGroup[] = [];
  const onTarget = new Set<string>();
  for (const c of listing.copies) {
    if (pushTarget(routing, c.key, c.id) !== c.shard) continue;
    onTarget.add(c.id);
    toDelete.push({ key: c.key, shard: c.shard, pushTimeSeconds: c.pushTimeSeconds, lastClientPushMs: observer.lastClientPush(c.id) });
  }
  const zero = (): ShardCounts => ({ deleted: 0, skipped: 0, gone: 0, failed: 0 });
  const total = zero();
  const shards: Record<string, ShardCounts> = {};
  const count = (shard: string, outcome: DeleteOutcome): void => {
    const s = (shards[shard] ??= zero());
    s[outcome]++;
    total[outcome]++;
  };
  for (const c of listing.copies) if (!onTarget.has(c.id)) count(c.shard, 'skipped');
  for (const r of await deleteIfUnchanged(deps, toDelete)) count(r.group.shard, r.outcome);
  return { total, shards, warnings: listing.warnings };
}
