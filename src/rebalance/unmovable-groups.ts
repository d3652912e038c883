/**
 * Groups a move cannot carry: the text format cannot reproduce them (a
 * native histogram, a UTF-8 metric name). Each stays on the shard that holds
 * it, pushes keep going there, and it is reported (metric, log,
 * /api/v1/shards) instead of failing every round. An entry holds for one
 * content: once the group is written again (its push time changes) the next
 * round tries to move it again.
 */
import { type GroupingKey } from '../groupingkey/grouping-key.js';

export interface UnmovableGroup {
  readonly id: string;
  readonly key: GroupingKey;
  readonly holder: string;
  readonly pushTime: number | undefined;
  readonly reason: string;
}

export class UnmovableGroups {
  readonly #byId = new Map<string, UnmovableGroup>();

  add(id: string, key: GroupingKey, holder: string, pushTime: number | undefined, reason: string): void {
    this.#byId.set(id, { id, key, holder, pushTime, reason });
  }

  /** Whether this exact copy (holder and push time) already failed to move. */
  has(id: string, holder: string, pushTime: number | undefined): boolean {
    const u = this.#byId.get(id);
    return u !== undefined && u.holder === holder && u.pushTime === pushTime;
  }

  /** Keeps only the entries of `shard` that it still holds (`ids`, as read). */
  retain(shard: string, ids: ReadonlySet<string> | ReadonlyMap<string, unknown>): void {
    for (const [id, u] of this.#byId) if (u.holder === shard && !ids.has(id)) this.#byId.delete(id);
  }

  /** Entries whose holder is `shard`. */
  on(shard: string): UnmovableGroup[] {
    return [...this.#byId.values()].filter((u) => u.holder === shard);
  }

  get size(): number {
    return this.#byId.size;
  }
}
