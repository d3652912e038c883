/**
 * The leader's side of the fence (docs/replicas.md). The leader writes to
 * the shards on its own (rebalance moves, merges and deletes, completions of
 * pushes in doubt, expiry and bulk deletes) only while it *holds* the fence:
 * it published a revision with `direct: false` under its current term and
 * every live replica acknowledged it. From then on every replica sends its
 * writes through the leader, so the leader's group locks, write journal and
 * copy ledger see all of them, exactly as a single shardgate sees its own.
 *
 * Releasing (the fleet is settled: no group in motion, nothing marked, no
 * write in doubt) publishes `direct: true` with the settled routing, and
 * replicas write straight to the shards again. It stops the leader's own
 * background writes at once; the next one acquires the fence again.
 *
 * Contract: `held()` is true only under the term the fence was acquired in
 * and only while that leadership is valid on the local clock; `acquire()`
 * resolves once held and rejects (DeposedError) if leadership is lost first.
 */
import { type Logger } from '../telemetry/logger.js';
import { type PublishedRing } from './published-ring.js';
import { type ReplicaSession } from './replica-session.js';

/** What the leader publishes besides the fence flag. */
export type RingState = Omit<PublishedRing, 'revision' | 'term' | 'leader' | 'direct'>;

export interface WriteFenceDeps {
  readonly session: ReplicaSession;
  readonly state: () => RingState;
  readonly logger: Logger;
  /** False when followers must never write directly (gateway consistency-check mode: the leader's index is the fleet's). */
  readonly directAllowed: boolean;
}

export class WriteFence {
  readonly #deps: WriteFenceDeps;
  /** The term under which the fence is held; undefined when not held. */
  #heldTerm: number | undefined;
  #acquiring: Promise<void> | undefined;
  /** What the leader last published for `direct`. */
  #direct = false;
  #republish: Promise<void> | undefined;
  #flushing: Promise<void> | undefined;
  #flushNext: Promise<void> | undefined;
  #republishAgain = false;

  constructor(deps: WriteFenceDeps) {
    this.#deps = deps;
  }

  leading(): boolean {
    return this.#deps.session.leading();
  }

  /** Held, and a write sent now lands while the leadership is still valid. */
  held(): boolean {
    return this.#heldTerm !== undefined && this.#heldTerm === this.#deps.session.term && this.#deps.session.mayWriteAsLeader();
  }

  acquire(): Promise<void> {
    if (this.held()) return Promise.resolve();
    this.#acquiring ??= this.#acquire().finally(() => (this.#acquiring = undefined));
    return this.#acquiring;
  }

  /** The fleet is settled: replicas may write directly again (unless they never may). */
  release(): void {
    if (!this.#deps.directAllowed || !this.held()) return;
    this.#heldTerm = undefined;
    this.#direct = true;
    this.#deps.logger.info({ term: this.#deps.session.term }, 'fleet settled: replicas write to the shards directly');
    this.changed();
  }

  /** A new term or a step-down: nothing held carries over. */
  reset(): void {
    this.#heldTerm = undefined;
    this.#direct = false;
  }

  /**
   * The routing state changed (ring, drains, discovery): publish it, without
   * waiting for acknowledgements (followers use it for discovery and status;
   * while the fence is held they route nothing by it). Coalesced.
   */
  changed(): void {
    if (!this.#deps.session.leading()) return;
    if (this.#republish) {
      this.#republishAgain = true;
      return;
    }
    this.#republish = (async () => {
      do {
        this.#republishAgain = false;
        await this.#deps.session.publish({ ...this.#deps.state(), direct: this.#direct });
      } while (this.#republishAgain && this.#deps.session.leading());
    })()
      .catch((err: unknown) => this.#deps.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'cannot publish the ring; the next change retries'))
      .finally(() => (this.#republish = undefined));
  }

  /**
   * Publishes the current state (keeping the fence flag); resolves once a
   * publication that started after this call is stored, rejects if deposed
   * or unreachable. Callers that arrive while one is in flight share the
   * next one: a round's concurrent moves cost one store write per round trip.
   */
  flush(): Promise<void> {
    if (this.#flushing === undefined) return (this.#flushing = this.#flushNow());
    this.#flushNext ??= this.#flushing.catch(() => undefined).then(() => {
      this.#flushNext = undefined;
      return (this.#flushing = this.#flushNow());
    });
    return this.#flushNext;
  }

  #flushNow(): Promise<void> {
    const done = this.#deps.session.publish({ ...this.#deps.state(), direct: this.#direct }).then(() => undefined);
    void done.catch(() => undefined).finally(() => {
      if (this.#flushing === done) this.#flushing = undefined;
    });
    return done;
  }

  async #acquire(): Promise<void> {
    const { session, logger } = this.#deps;
    const term = session.term;
    this.#direct = false;
    const ring = await session.publish({ ...this.#deps.state(), direct: false });
    await session.awaitAcks(ring.revision);
    if (session.term !== term || !session.leading()) return this.#acquire();
    this.#heldTerm = term;
    logger.info({ term, ring_revision: ring.revision, replicas: session.replicas.length }, 'write fence held: every replica sends its writes through the leader');
  }
}
