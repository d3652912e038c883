/**
 * What a restore puts back: of the groups read from the standbys, those
 * whose home was the dead shard on the ring before it died. A group found
 * on several standbys (a fallback write while its first standby was down,
 * which then came back with an older copy) is taken from the standby that
 * wrote it last (its own `push_time_seconds`: every mirrored PUT/POST
 * stamps it), ties to the earlier one in rendezvous order. Pure.
 */
import { type GroupingKey, groupId, shardKey } from '../groupingkey/grouping-key.js';
import { type Ring } from '../ring/ring.js';
import { standbyOrder } from './standby-order.js';

export interface StandbyCopy<G> {
  readonly standby: string;
  readonly key: GroupingKey;
  readonly group: G;
  /** The standby's push_time_seconds of the group (undefined: unknown, ranks last). */
  readonly pushTimeSeconds: number | undefined;
}

export function restorePlan<G>(dead: string, ringBefore: Ring, standbys: readonly string[], copies: ReadonlyArray<StandbyCopy<G>>): Array<StandbyCopy<G>> {
  const byId = new Map<string, Array<StandbyCopy<G>>>();
  for (const c of copies) {
    if (ringBefore.owner(shardKey(c.key)) !== dead) continue;
    const id = groupId(c.key);
    byId.set(id, [...(byId.get(id) ?? []), c]);
  }
  const plan: Array<StandbyCopy<G>> = [];
  for (const found of byId.values()) {
    const first = found[0];
    if (first === undefined) continue;
    const order = standbyOrder(shardKey(first.key), standbys);
    const rank = (c: StandbyCopy<G>): number => {
      const i = order.indexOf(c.standby);
      return i < 0 ? order.length : i;
    };
    const newer = (c: StandbyCopy<G>, best: StandbyCopy<G>): boolean => {
      const a = c.pushTimeSeconds ?? -Infinity;
      const b = best.pushTimeSeconds ?? -Infinity;
      return a > b || (a === b && rank(c) < rank(best));
    };
    plan.push(found.reduce((best, c) => (newer(c, best) ? c : best)));
  }
  return plan;
}
