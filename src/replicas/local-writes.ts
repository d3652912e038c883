/**
 * The writes this replica sends to the shards itself (client pushes and
 * their completions), counted from the moment they are allowed to the
 * moment their pushgateway answered. A follower acknowledges a fencing ring
 * revision only once the writes allowed before it are drained
 * (docs/replicas.md): after the acknowledgement, none of its writes is on
 * its way to a shard the leader is about to move from.
 *
 * Contract: `enter()` decides and counts in one synchronous step, so a
 * write is either refused or counted before `drained()` can look.
 */
export class LocalWrites {
  readonly #allowed: () => boolean;
  #inFlight = 0;
  #waiters: Array<() => void> = [];

  constructor(allowed: () => boolean) {
    this.#allowed = allowed;
  }

  /** A release function if the write may go now, undefined if it may not. */
  enter(): (() => void) | undefined {
    if (!this.#allowed()) return undefined;
    this.#inFlight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.#inFlight === 0) for (const w of this.#waiters.splice(0)) w();
    };
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Resolves once no write allowed before this call is in flight (writes are bounded by the upstream timeouts). */
  drained(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    // Waiting for zero is stronger than waiting for the writes already in flight, and as safe.
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}
