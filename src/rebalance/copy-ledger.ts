/**
 * What this shardgate knows about copies of a group on shards other than
 * the one its pushes go to, learnt from the writes it routed. Push times
 * cannot tell these apart: a paused pushgateway can apply a write after its
 * caller gave up, stamping an old content with a new push time.
 *
 * - `stale`: a copy there is older than the group's current content (a PUT
 *   or DELETE was acknowledged elsewhere since, or a DELETE could not reach
 *   it). The rebalancer deletes it, whatever its push time.
 * - `base`: the shard failed while it was the group's home, and since then
 *   only POSTs were acknowledged (on the new home). Its copy holds the
 *   families those POSTs did not replace: the rebalancer layers the new
 *   home's families over it (POST semantics) instead of dropping it.
 *
 * A shard that left the ring while unreachable is a *lost home*: every
 * acknowledged write of a group it owned in the last ring that had it marks
 * its copy. Marks are cleared when the copy is resolved (deleted, merged,
 * absent when read) or a write of the group lands on that shard.
 *
 * Contract: in memory, per process. A restarted shardgate starts with an
 * empty ledger and falls back to "the copy where pushes go wins".
 */
import { type GroupingKey, shardKey } from '../groupingkey/grouping-key.js';
import { type Ring } from '../ring/ring.js';

export type CopyMark = 'stale' | 'base';

export class CopyLedger {
  /** groupId → shard → mark. */
  readonly #marks = new Map<string, Map<string, CopyMark>>();
  /** Shards that left the ring unreachable → the last ring that had them. */
  readonly #lostHomes = new Map<string, Ring>();
  /** Groups routed to a lost shard by an override (not by the ring) → that shard. */
  readonly #lostGroups = new Map<string, string>();

  mark(id: string, shard: string): CopyMark | undefined {
    return this.#marks.get(id)?.get(shard);
  }

  /** Number of marked copies (a metric). */
  get size(): number {
    let n = 0;
    for (const m of this.#marks.values()) n += m.size;
    return n;
  }

  /** `shard` left the routing while unreachable; `ringBefore` still had it. */
  lose(shard: string, ringBefore: Ring): void {
    if (!this.#lostHomes.has(shard)) this.#lostHomes.set(shard, ringBefore);
  }

  /** A group an override routed to `shard` lost its home with it. */
  loseGroup(id: string, shard: string): void {
    this.#lostGroups.set(id, shard);
  }

  /** The round that read `shard` resolved its copies: it is no longer a lost home. */
  found(shard: string): void {
    this.#lostHomes.delete(shard);
    for (const [id, s] of this.#lostGroups) if (s === shard) this.#lostGroups.delete(id);
  }

  /** An acknowledged client write of `key` on `target`. */
  written(method: 'PUT' | 'POST' | 'DELETE', key: GroupingKey, id: string, target: string): void {
    this.resolved(id, target);
    if (this.#lostHomes.size === 0 && this.#lostGroups.size === 0) return;
    const homes = new Set<string>();
    const byOverride = this.#lostGroups.get(id);
    if (byOverride !== undefined) homes.add(byOverride);
    if (this.#lostHomes.size > 0) {
      const sk = shardKey(key);
      for (const [shard, ring] of this.#lostHomes) if (ring.owner(sk) === shard) homes.add(shard);
    }
    for (const home of homes) {
      if (home === target) continue;
      if (method === 'POST') {
        if (this.mark(id, home) === undefined) this.#set(id, home, 'base');
      } else {
        this.#set(id, home, 'stale');
      }
    }
  }

  /** A DELETE of the group was acknowledged but could not be confirmed on `shard`. */
  deleteMissed(id: string, shard: string): void {
    this.#set(id, shard, 'stale');
  }

  /** The copy on `shard` is gone or was rewritten by shardgate: nothing to remember. */
  resolved(id: string, shard: string): void {
    const m = this.#marks.get(id);
    if (m === undefined || !m.delete(shard)) return;
    if (m.size === 0) this.#marks.delete(id);
  }

  /** `shard` left the configuration: whatever it held is out of reach for good. */
  forgetShard(shard: string): void {
    this.found(shard);
    for (const [id, m] of this.#marks) {
      m.delete(shard);
      if (m.size === 0) this.#marks.delete(id);
    }
  }

  /** Every shard the ledger remembers something about. */
  shards(): Set<string> {
    const out = new Set<string>([...this.#lostHomes.keys(), ...this.#lostGroups.values()]);
    for (const m of this.#marks.values()) for (const shard of m.keys()) out.add(shard);
    return out;
  }

  /** Marks on `shard`, for a round to resolve those whose copy it no longer holds. */
  markedOn(shard: string): string[] {
    const out: string[] = [];
    for (const [id, m] of this.#marks) if (m.has(shard)) out.push(id);
    return out;
  }

  #set(id: string, shard: string, mark: CopyMark): void {
    let m = this.#marks.get(id);
    if (m === undefined) {
      m = new Map();
      this.#marks.set(id, m);
    }
    m.set(shard, mark);
  }
}
