/**
 * Drains for scale-in: a draining shard is out of the next ring; its groups
 * move to their owners; it is `drained` when no group that can move is left
 * on it. Groups that cannot move (unmovable-groups.ts) do not hold a drain
 * up: they are counted apart, and the shard stays scraped while it has any.
 */
export interface DrainState {
  readonly target: string;
  readonly state: 'draining' | 'drained';
  /** Movable groups still on the target after the last round, or null before one read it. */
  readonly groups_remaining: number | null;
  /** Groups that cannot be moved and stay on the target. */
  readonly groups_unmovable: number;
  readonly since: string;
}

interface Drain {
  readonly since: Date;
  /** Its stamp in the coordinator's sequence: a round stamped before it read the shard while it still took writes. */
  readonly stamp: number;
  remaining: number | null;
  unmovable: number;
}

export class Drains {
  readonly #drains = new Map<string, Drain>();

  has(target: string): boolean {
    return this.#drains.has(target);
  }

  targets(): string[] {
    return [...this.#drains.keys()];
  }

  start(target: string, since: Date, stamp: number): void {
    if (!this.#drains.has(target)) this.#drains.set(target, { since, stamp, remaining: null, unmovable: 0 });
  }

  cancel(target: string): void {
    this.#drains.delete(target);
  }

  /**
   * What the last round left on `target` (no-op unless it drains). A round
   * that began before the drain (a smaller stamp) is ignored: it
   * read the shard while pushes still went there, so "nothing left" from it
   * would call the shard drained with groups written since.
   */
  progress(target: string, remaining: number, unmovable: number, roundStamp: number): void {
    const d = this.#drains.get(target);
    if (d === undefined || roundStamp < d.stamp) return;
    d.remaining = Math.max(0, remaining);
    d.unmovable = unmovable;
  }

  state(target: string): DrainState | undefined {
    const d = this.#drains.get(target);
    if (d === undefined) return undefined;
    return {
      target,
      state: d.remaining === 0 ? 'drained' : 'draining',
      groups_remaining: d.remaining,
      groups_unmovable: d.unmovable,
      since: d.since.toISOString(),
    };
  }
}
