/**
 * Per-group read/write locks between client pushes (shared) and the
 * rebalancer moving, merging or deleting a copy of a group (exclusive).
 * They make "a push that arrives while its group moves wins over the copy"
 * hold: an exclusive holder waits until in-flight pushes of the group have
 * been answered by their pushgateway, and pushes that arrive meanwhile wait
 * until it is done, then go where the routing points after it.
 *
 * Contract:
 * - `withExclusive` is the only way to hold a group exclusively: the locks
 *   are released when `fn` settles, whatever it throws, so no lock outlives
 *   the operation that took it.
 * - Exclusive holders of one group queue in arrival order; a multi-group
 *   acquisition takes its groups in sorted order, one at a time, so two
 *   acquisitions can never wait for each other (no deadlock).
 * - Writer preference: once an exclusive holder waits for a group, new
 *   pushes of that group wait too, so a busy group cannot starve a move.
 * - The shared fast path is one Map lookup and allocates no promise.
 *   Entries exist only while held or waited for.
 */
interface Entry {
  shared: number;
  exclusive: boolean;
  /** Pushes waiting for the exclusive holder(s) to finish. */
  sharedWaiters: Array<() => void>;
  /** Exclusive acquisitions waiting, in arrival order. */
  exclusiveWaiters: Array<() => void>;
  /** Set while the exclusive holder waits for in-flight pushes to finish. */
  drained: (() => void) | undefined;
}

export class GroupLocks {
  readonly #entries = new Map<string, Entry>();

  /** Returns undefined when acquired at once, else a promise that resolves once acquired. */
  acquireShared(id: string): Promise<void> | undefined {
    const e = this.#entries.get(id);
    if (e === undefined) {
      this.#entries.set(id, { shared: 1, exclusive: false, sharedWaiters: [], exclusiveWaiters: [], drained: undefined });
      return undefined;
    }
    if (!e.exclusive && e.exclusiveWaiters.length === 0) {
      e.shared++;
      return undefined;
    }
    return new Promise((resolve) => e.sharedWaiters.push(resolve));
  }

  releaseShared(id: string): void {
    const e = this.#entries.get(id);
    if (e === undefined || e.shared === 0) return;
    e.shared--;
    if (e.shared > 0) return;
    if (e.drained !== undefined) {
      const wake = e.drained;
      e.drained = undefined;
      wake();
    } else {
      this.#settle(id, e);
    }
  }

  /**
   * Runs `fn` holding every group in `ids` exclusively: new pushes of them
   * wait, in-flight ones are waited for. Released when `fn` settles.
   */
  async withExclusive<T>(ids: Iterable<string>, fn: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(ids)].sort();
    const held: string[] = [];
    try {
      for (const id of sorted) {
        await this.#acquireExclusive(id);
        held.push(id);
      }
      return await fn();
    } finally {
      for (const id of held) this.#releaseExclusive(id);
    }
  }

  /** True while a rebalance operation holds the group (for invariant checks and tests). */
  isExclusive(id: string): boolean {
    return this.#entries.get(id)?.exclusive === true;
  }

  /** Groups with a holder or waiter (for tests and metrics). */
  get size(): number {
    return this.#entries.size;
  }

  async #acquireExclusive(id: string): Promise<void> {
    let e = this.#entries.get(id);
    if (e === undefined) {
      this.#entries.set(id, { shared: 0, exclusive: true, sharedWaiters: [], exclusiveWaiters: [], drained: undefined });
      return;
    }
    if (e.exclusive || e.exclusiveWaiters.length > 0) {
      const entry = e;
      await new Promise<void>((resolve) => entry.exclusiveWaiters.push(resolve));
      // Handed over by #releaseExclusive: `exclusive` is already set for us.
      e = entry;
    } else {
      e.exclusive = true;
    }
    if (e.shared > 0) {
      const entry = e;
      await new Promise<void>((resolve) => (entry.drained = resolve));
    }
  }

  #releaseExclusive(id: string): void {
    const e = this.#entries.get(id);
    if (e === undefined || !e.exclusive) return;
    const next = e.exclusiveWaiters.shift();
    if (next !== undefined) {
      // Hand over directly: pushes that queued meanwhile keep waiting.
      next();
      return;
    }
    e.exclusive = false;
    const waiters = e.sharedWaiters;
    e.sharedWaiters = [];
    e.shared += waiters.length;
    for (const wake of waiters) wake();
    this.#settle(id, e);
  }

  #settle(id: string, e: Entry): void {
    if (e.shared === 0 && !e.exclusive && e.exclusiveWaiters.length === 0 && e.sharedWaiters.length === 0) this.#entries.delete(id);
  }
}
