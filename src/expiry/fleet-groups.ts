/**
 * Every copy of every group across the fleet, read from each shard's
 * `/api/v1/metrics` (in parallel), reduced to what expiry and bulk delete
 * need: the key, the shard, and the push time. A shard that cannot be read
 * is reported, not fatal: its groups are simply not listed.
 */
import { type GroupingKey, groupId } from '../groupingkey/grouping-key.js';
import { type ShardClient } from '../upstream/shard-client.js';
import { pushTimeOf, readGroupingKey } from '../upstream/group-facts.js';
import { errorMessage } from '../upstream/upstream-error.js';

export interface GroupCopy {
  readonly key: GroupingKey;
  readonly id: string;
  readonly shard: string;
  /** `push_time_seconds` of this copy, when it has one. */
  readonly pushTimeSeconds: number | undefined;
}

export interface FleetRead {
  readonly copies: readonly GroupCopy[];
  /** Shards read completely. */
  readonly read: readonly string[];
  readonly warnings: readonly string[];
}

export async function readFleetGroups(client: ShardClient, shards: readonly string[], timeoutMs: number): Promise<FleetRead> {
  const results = await Promise.allSettled(shards.map((t) => client.listGroups(t, timeoutMs)));
  const copies: GroupCopy[] = [];
  const read: string[] = [];
  const warnings: string[] = [];
  results.forEach((r, i) => {
    const shard = shards[i] ?? '';
    if (r.status === 'rejected') {
      warnings.push(`shard ${shard} could not be read: ${errorMessage(r.reason)}`);
      return;
    }
    read.push(shard);
    for (const g of r.value) {
      const key = readGroupingKey(g);
      if (key !== undefined) copies.push({ key, id: groupId(key), shard, pushTimeSeconds: pushTimeOf(g) });
    }
  });
  return { copies, read, warnings };
}
