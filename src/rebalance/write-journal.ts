/**
 * The writes that may land on a shard after a round read it: those in
 * flight when the round opened the journal, and those routed until it
 * publishes the next ring. A group first pushed in that window is in no
 * snapshot, yet it sits on the shard its push went to: the round must keep
 * routing it there (an override) and move it like the others. Without this,
 * the next ring would send its later pushes to another shard, and the next
 * round would delete one half of a group that was built with POSTs.
 *
 * Contract: `begin`/`end` bracket every routed write (O(1), always on);
 * one round at a time opens the journal and closes it right before it
 * publishes, in the same synchronous step.
 */
import { type GroupingKey } from '../groupingkey/grouping-key.js';

export interface JournalEntry {
  readonly key: GroupingKey;
  /** Where the last write of the group was routed. */
  readonly target: string;
}

interface InFlight extends JournalEntry {
  count: number;
}

export class WriteJournal {
  readonly #inFlight = new Map<string, InFlight>();
  #entries: Map<string, JournalEntry> | undefined;
  /** Every shard a write of each group was routed to while open (usually one). */
  #shards: Map<string, Set<string>> | undefined;

  /** A write of `key` is being sent to `target`. */
  begin(id: string, key: GroupingKey, target: string): void {
    const f = this.#inFlight.get(id);
    if (f === undefined || f.target !== target) this.#inFlight.set(id, { key, target, count: (f?.count ?? 0) + 1 });
    else f.count++;
    if (this.#entries === undefined) return;
    this.#entries.set(id, { key, target });
    this.#touch(id, target);
  }

  /**
   * Whether a write of `id` was routed to `shard` since the journal opened
   * (in flight then, or begun since): a copy there may hold content the
   * round's plan did not see, or saw before the ledger learnt of it.
   */
  wroteTo(id: string, shard: string): boolean {
    return this.#shards?.get(id)?.has(shard) === true;
  }

  #touch(id: string, shard: string): void {
    const set = this.#shards?.get(id);
    if (set === undefined) this.#shards?.set(id, new Set([shard]));
    else set.add(shard);
  }

  /** The write begun for `id` has its answer (or failed). */
  end(id: string): void {
    const f = this.#inFlight.get(id);
    if (f === undefined) return;
    if (--f.count <= 0) this.#inFlight.delete(id);
  }

  open(): void {
    this.#entries = new Map();
    this.#shards = new Map();
    for (const [id, f] of this.#inFlight) {
      this.#entries.set(id, { key: f.key, target: f.target });
      this.#touch(id, f.target);
    }
  }

  /** Closes the journal and returns what it recorded. */
  close(): ReadonlyMap<string, JournalEntry> {
    const out = this.#entries ?? new Map<string, JournalEntry>();
    this.#entries = undefined;
    this.#shards = undefined;
    return out;
  }
}
