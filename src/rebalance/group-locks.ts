/**
 * Per-group read/write locks between client pushes (shared) and the
 * rebalancer moving or deleting a group (exclusive). They make "a push that
 * arrives while its group is being moved wins over the copy" hold: an
 * exclusive holder waits until in-flight pushes of the group have been
 * answered by their pushgateway, and pushes that arrive meanwhile wait until
 * the move is done, then go where the routing points after it.
 *
 * Contract: exclusive holders never overlap on a group (the rebalancer
 * hands each group to one batch at a time). The shared fast path is one Map
 * lookup and allocates no promise. Entries exist only while held.
 */
interface Entry {
  shared: number;
  exclusive: boolean;
  waiters: Array<() => void>;
  drained: (() => void) | undefined;
}

export class GroupLocks {
  readonly #entries = new Map<string, Entry>();

  /** Returns undefined when acquired at once, else a promise that resolves once acquired. */
  acquireShared(id: string): Promise<void> | undefined {
    const e = this.#entries.get(id);
    if (e === undefined) {
      this.#entries.set(id, { shared: 1, exclusive: false, waiters: [], drained: undefined });
      return undefined;
    }
    if (!e.exclusive) {
      e.shared++;
      return undefined;
    }
    return new Promise((resolve) => e.waiters.push(resolve));
  }

  releaseShared(id: string): void {
    const e = this.#entries.get(id);
    if (e === undefined) return;
    e.shared--;
    if (e.shared > 0) return;
    if (e.exclusive) {
      e.drained?.();
      e.drained = undefined;
    } else {
      this.#entries.delete(id);
    }
  }

  /** Blocks new pushes of these groups, then waits for their in-flight pushes. */
  async acquireExclusive(ids: readonly string[]): Promise<void> {
    const pending: Array<Promise<void>> = [];
    for (const id of ids) {
      let e = this.#entries.get(id);
      if (e === undefined) {
        e = { shared: 0, exclusive: true, waiters: [], drained: undefined };
        this.#entries.set(id, e);
        continue;
      }
      if (e.exclusive) throw new Error(`group lock already held exclusively: ${JSON.stringify(id)}`);
      e.exclusive = true;
      const entry = e;
      if (entry.shared > 0) pending.push(new Promise((resolve) => (entry.drained = resolve)));
    }
    await Promise.all(pending);
  }

  releaseExclusive(ids: readonly string[]): void {
    for (const id of ids) {
      const e = this.#entries.get(id);
      if (e === undefined || !e.exclusive) continue;
      e.exclusive = false;
      const waiters = e.waiters;
      e.waiters = [];
      e.shared += waiters.length;
      if (e.shared === 0) this.#entries.delete(id);
      for (const wake of waiters) wake();
    }
  }

  /** Whether the rebalancer holds `id` exclusively now (read-only; for the simulation's invariants). */
  isExclusive(id: string): boolean {
    return this.#entries.get(id)?.exclusive === true;
  }

  /** Groups with a holder or waiter (for tests and metrics). */
  get size(): number {
    return this.#entries.size;
  }
}
