/**
 * Merges the groups read from several pushgateways into one list in
 * Pushgateway's own /api/v1/metrics shape. A group (exact grouping key) found
 * on two shards (mid-rebalance, or pushed around shardgate) appears once: the
 * copy with the newer push_time_seconds wins.
 */
import { type ApiGroup } from '../upstream/metrics-api.js';
import { pushTimeOf, readGroupingKey } from '../upstream/group-facts.js';
import { groupId } from '../groupingkey/grouping-key.js';

export interface ShardRead {
  readonly target: string;
  readonly groups: readonly ApiGroup[];
}

export interface MergedRead {
  readonly data: ApiGroup[];
  /** Groups seen on more than one shard, by grouping key. */
  readonly duplicates: number;
}

export function mergeGroups(reads: readonly ShardRead[]): MergedRead {
  const byId = new Map<string, ApiGroup>();
  let duplicates = 0;
  for (const read of reads) {
    for (const group of read.groups) {
      const key = readGroupingKey(group);
      // A group without a job cannot come from Pushgateway; list it as is.
      const id = key === undefined ? `invalid:${JSON.stringify(group.labels)}` : groupId(key);
      const seen = byId.get(id);
      if (seen === undefined) {
        byId.set(id, group);
        continue;
      }
      duplicates++;
      if ((pushTimeOf(group) ?? -Infinity) > (pushTimeOf(seen) ?? -Infinity)) byId.set(id, group);
    }
  }
  const data = [...byId.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, g]) => g);
  return { data, duplicates };
}
