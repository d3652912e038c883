/**
 * Where a push for a group goes right now: the shard that still holds it
 * while the rebalancer has not moved it (an override), else its owner on the
 * ring. The one answer for the proxy, the redirect and the GET lookup.
 */
import { type GroupingKey, groupId, shardKey } from '../groupingkey/grouping-key.js';
import { type Ring } from '../ring/ring.js';

export interface RoutingTable {
  readonly ring: Ring;
  /** groupId → shard that still holds a group the rebalancer has not moved yet. */
  readonly overrides: ReadonlyMap<string, string>;
}

/** @param id groupId(key), when the caller already has it. */
export function pushTarget(routing: RoutingTable, key: GroupingKey, id?: string): string | undefined {
  const held = routing.overrides.size > 0 ? routing.overrides.get(id ?? groupId(key)) : undefined;
  return held ?? routing.ring.owner(shardKey(key));
}
