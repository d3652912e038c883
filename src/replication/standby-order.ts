/**
 * Which standby holds a group: rendezvous hashing over the standby targets,
 * as the ring does over the shards, so adding a standby moves only the
 * groups it wins. The full order is the fallback list: a push whose first
 * standby is down goes to the next one. Pure.
 */
import { buildRing } from '../ring/rendezvous-ring.js';

/** Every standby, best first for `shardKey`. */
export function standbyOrder(shardKey: string, standbys: readonly string[]): string[] {
  const order: string[] = [];
  let left = [...standbys];
  // Peeling the owner off a shrinking ring is the rendezvous order itself (scores do not depend on the other members).
  while (left.length > 0) {
    const best = buildRing(left).owner(shardKey);
    if (best === undefined) break;
    order.push(best);
    left = left.filter((s) => s !== best);
  }
  return order;
}
