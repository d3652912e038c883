/**
 * One replica's life in the coordination store: every `pollMs` it renews
 * its session, campaigns (which renews leadership when it holds it), and
 * reads the leader, the published ring and the live replicas. A follower
 * adopts each newer ring and acknowledges it once `adopt` says it is safe
 * (its own writes drained, see replica-gate.ts); the leader publishes and
 * waits for every live replica's acknowledgement (write-fence.ts).
 *
 * Time is judged on the local monotonic clock, conservatively, so that a
 * replica stops acting on a session or a leadership *before* the store
 * ends it (docs/replicas.md, "Leases"):
 * - the session is valid until `SAFETY × ttl` after the send time of the
 *   last heartbeat the store accepted, and only while those heartbeats came
 *   in time (a lapse means the store may have ended the session: the
 *   replica forgets the ring it adopted and must read and acknowledge a
 *   current one before it writes again);
 * - leadership is valid until `SAFETY × ttl` after the earlier of the last
 *   accepted heartbeat and the last campaign that confirmed it, under the
 *   same term. A lapse ends it; a later campaign that wins again gets a new
 *   term and starts over.
 */
import { type Logger } from '../telemetry/logger.js';
import { type Clock } from '../time/clock.js';
import { errorMessage } from '../upstream/upstream-error.js';
import { type CoordinationBackend, type LeaderRecord, type ReplicaIdentity, type ReplicaRecord } from './coordination-backend.js';
import { type PublishedRing } from './published-ring.js';
import { type ReplicaMetrics } from './replica-metrics.js';

/** Fraction of the TTL a replica trusts its own session and leadership for. */
export const SAFETY = 0.75;

export interface ReplicaSessionDeps {
  readonly backend: CoordinationBackend;
  readonly self: ReplicaIdentity;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: ReplicaMetrics;
  readonly pollMs: number;
  /**
   * The longest a write sent to a pushgateway may take to be applied there
   * (connect + response timeout): a write is sent only while the session (or
   * leadership) it relies on stays valid at least that long, so it lands
   * before the store can have ended them (docs/replicas.md, "Leases").
   */
  readonly maxWriteDelayMs: number;
  /** Follower: `ring` is newer than the last one adopted; resolves when acknowledging it is safe. */
  readonly adopt: (ring: PublishedRing) => Promise<void>;
  /** This replica became leader under `term`; `ring` is the last one published (by anyone), if any. */
  readonly onLead: (term: number, ring: PublishedRing | undefined) => void;
  /** This replica stopped leading (deposed, lease lapsed, or shutting down). */
  readonly onStepDown: (reason: string) => void;
}

export class DeposedError extends Error {
  override readonly name = 'DeposedError';
}

export class ReplicaSession {
  readonly #deps: ReplicaSessionDeps;
  readonly #ttl: number;
  #stopped = false;
  #cancelTick: (() => void) | undefined;
  #ticking: Promise<void> | undefined;

  /** Send time of the last accepted heartbeat of the current (unbroken) session; undefined: none. */
  #heartbeatAt: number | undefined;
  /** Local time of the last successful read of the store. */
  #contactAt: number | undefined;
  #lastError: string | null = null;
  #leader: LeaderRecord | undefined;
  #replicas: readonly ReplicaRecord[] = [];
  /** The last ring read or published. */
  #ring: PublishedRing | undefined;
  /** The highest revision adopted and acknowledged (0: none in this session). */
  #acked = 0;
  #adopting = false;
  /** The ring last acknowledged: what this replica routes its own writes by (see adopted()). */
  #ackedRing: PublishedRing | undefined;
  #publishing: Promise<void> = Promise.resolve();

  /** Leadership: the term held, and the send time of the last campaign that confirmed it. */
  #term: number | undefined;
  #campaignAt = 0;

  constructor(deps: ReplicaSessionDeps) {
    this.#deps = deps;
    this.#ttl = deps.backend.ttlMs;
  }

  get self(): ReplicaIdentity {
    return this.#deps.self;
  }

  get ttlMs(): number {
    return this.#ttl;
  }

  /** Runs the first tick (resolves whatever it found) and keeps ticking. */
  async start(): Promise<void> {
    await this.#tickOnce();
    this.#schedule();
  }

  /** Whether this replica leads now (its leadership is still valid by its own clock). */
  leading(): boolean {
    if (this.#term === undefined) return false;
    if (this.#deps.clock.now() < this.#leaderValidUntil()) return true;
    this.#stepDown('leadership lease lapsed before it could be renewed');
    return false;
  }

  get term(): number | undefined {
    return this.#term;
  }

  /** Whether this replica's session is unbroken and valid by its own clock. */
  sessionValid(): boolean {
    return this.#heartbeatAt !== undefined && this.#deps.clock.now() < this.#heartbeatAt + SAFETY * this.#ttl;
  }

  /** Whether a write sent now as a follower lands while the session is still valid (see maxWriteDelayMs). */
  mayWriteAsFollower(): boolean {
    return this.#heartbeatAt !== undefined && this.#deps.clock.now() + this.#deps.maxWriteDelayMs < this.#heartbeatAt + SAFETY * this.#ttl;
  }

  /** Whether a write sent now as the leader lands while the leadership is still valid (see maxWriteDelayMs). */
  mayWriteAsLeader(): boolean {
    return this.leading() && this.#deps.clock.now() + this.#deps.maxWriteDelayMs < this.#leaderValidUntil();
  }

  /**
   * The ring this replica last acknowledged (undefined after a lapse, until
   * it acknowledges a current one). Its writes follow this one: while it
   * adopts a newer ring, the leader still waits for it.
   */
  acknowledged(): PublishedRing | undefined {
    return this.#acked === 0 ? undefined : this.#ackedRing;
  }

  get leader(): LeaderRecord | undefined {
    return this.#leader;
  }

  get ring(): PublishedRing | undefined {
    return this.#ring;
  }

  get replicas(): readonly ReplicaRecord[] {
    return this.#replicas;
  }

  get acked(): number {
    return this.#acked;
  }

  /** Milliseconds since the store last answered a read, undefined if it never did. */
  sinceContact(): number | undefined {
    return this.#contactAt === undefined ? undefined : this.#deps.clock.now() - this.#contactAt;
  }

  get lastError(): string | null {
    return this.#lastError;
  }

  /**
   * Leader: stores `ring` (revision and term filled in here) under this
   * replica's term. Throws DeposedError when leadership is gone; the store's
   * own errors pass through.
   */
  publish(ring: Omit<PublishedRing, 'revision' | 'term' | 'leader'>): Promise<PublishedRing> {
    // One at a time: each revision is the last one plus one.
    const next = this.#publishing.then(() => this.#publishNow(ring));
    this.#publishing = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }

  async #publishNow(ring: Omit<PublishedRing, 'revision' | 'term' | 'leader'>): Promise<PublishedRing> {
    const term = this.#term;
    if (term === undefined || !this.leading()) throw new DeposedError('not the leader');
    const next: PublishedRing = { ...ring, revision: (this.#ring?.revision ?? 0) + 1, term, leader: this.#deps.self.id };
    const stored = await this.#deps.backend.publish(term, next);
    if (!stored) {
      this.#stepDown('the store refused a publication under this term');
      throw new DeposedError('deposed: the store refused the publication');
    }
    if (this.#term !== term) throw new DeposedError('deposed while publishing');
    this.#ring = next;
    this.#ackedRing = next;
    this.#acked = next.revision;
    this.#deps.metrics.ringRevision.set(next.revision);
    this.#deps.metrics.publications.inc();
    // The leader's own acknowledgement, so a replica list read by anyone shows it.
    void this.#heartbeat();
    return next;
  }

  /**
   * Leader: resolves once every live replica acknowledged `revision` or a
   * later one (a replica whose session ended no longer counts). Polls the
   * store every quarter of pollMs. Rejects with DeposedError when
   * leadership is lost meanwhile.
   */
  async awaitAcks(revision: number): Promise<void> {
    const started = this.#deps.clock.now();
    for (;;) {
      if (!this.leading()) throw new DeposedError('lost leadership while waiting for acknowledgements');
      try {
        const view = await this.#deps.backend.read();
        this.#observe(view.leader, view.replicas);
        const pending = view.replicas.filter((r) => r.id !== this.#deps.self.id && r.acked < revision);
        this.#deps.metrics.ackedReplicas.set(view.replicas.length - pending.length);
        if (pending.length === 0) {
          this.#deps.metrics.fenceWait.observe((this.#deps.clock.now() - started) / 1000);
          return;
        }
      } catch (err) {
        this.#storeFailed(err);
      }
      await this.#deps.clock.sleep(Math.max(10, this.#deps.pollMs / 4));
    }
  }

  /** Ends the loop; resigns leadership and ends the session (best effort). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancelTick?.();
    await this.#ticking;
    const term = this.#term;
    if (term !== undefined) {
      this.#stepDown('shutting down');
      await this.#deps.backend.resign(term).catch(() => undefined);
    }
    await this.#deps.backend.close().catch(() => undefined);
  }

  // ---- the loop ----

  #schedule(): void {
    if (this.#stopped) return;
    this.#cancelTick = this.#deps.clock.setTimer(() => {
      this.#ticking = this.#tickOnce().finally(() => {
        this.#ticking = undefined;
        this.#schedule();
      });
    }, this.#deps.pollMs);
  }

  async #tickOnce(): Promise<void> {
    if (this.#stopped) return;
    // A lapse is noticed here even when nothing asks leading() or sessionValid().
    this.leading();
    const alive = await this.#heartbeat();
    if (!alive || this.#stopped) return;
    try {
      const sent = this.#deps.clock.now();
      const leader = await this.#deps.backend.campaign(this.#deps.self);
      const won = this.#campaigned(leader, sent);
      const view = await this.#deps.backend.read();
      this.#contactAt = this.#deps.clock.now();
      this.#lastError = null;
      this.#observe(view.leader, view.replicas);
      if (view.ring !== undefined && view.ring.revision > (this.#ring?.revision ?? 0)) {
        this.#ring = view.ring;
        this.#deps.metrics.ringRevision.set(view.ring.revision);
      }
      // A term just won is taken up only now: the takeover starts from the newest ring, read after winning.
      if (won !== undefined && view.leader?.id === this.#deps.self.id && view.leader.term === won && !this.#stopped) this.#lead(won, sent);
      if (this.#term === undefined) await this.#adoptLatest();
    } catch (err) {
      this.#storeFailed(err);
    }
  }

  /** Renews the session; false when the store could not be reached. */
  async #heartbeat(): Promise<boolean> {
    const sent = this.#deps.clock.now();
    try {
      await this.#deps.backend.heartbeat({ ...this.#deps.self, acked: this.#acked });
      this.#deps.metrics.renewals.inc({ result: 'success' });
      // Unbroken only if sent before the last one's validity ran out and answered within the margin:
      // then the store received it before it could have ended the session. Otherwise the backend may
      // have started a new session, and nothing held through the old one (leadership, acknowledged
      // revisions) counts any more.
      const answered = this.#deps.clock.now();
      const unbroken = this.#heartbeatAt !== undefined && sent < this.#heartbeatAt + SAFETY * this.#ttl && answered - sent < (1 - SAFETY) * this.#ttl;
      if (!unbroken) {
        if (this.#heartbeatAt !== undefined) this.#deps.logger.warn({ replica: this.#deps.self.id }, 'replica session lapsed and was renewed: re-reading the ring before writing directly again');
        this.#acked = 0;
        this.#stepDown('the session lapsed');
      }
      this.#heartbeatAt = sent;
      return true;
    } catch (err) {
      this.#deps.metrics.renewals.inc({ result: 'failure' });
      this.#storeFailed(err);
      return false;
    }
  }

  /** Renews the leadership held, or returns the term just won (taken up by #lead once the ring is read). */
  #campaigned(leader: LeaderRecord | undefined, sent: number): number | undefined {
    const mine = leader !== undefined && leader.id === this.#deps.self.id;
    if (mine && this.#term === leader.term) {
      this.#campaignAt = sent;
      return undefined;
    }
    if (this.#term !== undefined) this.#stepDown(mine ? `leadership was lost and won again under term ${leader.term}` : `${leader?.id ?? 'nobody'} leads now`);
    return mine ? leader.term : undefined;
  }

  #lead(term: number, sent: number): void {
    // A new term: valid from the campaign that won it, as long as the session's heartbeats keep coming.
    this.#term = term;
    this.#campaignAt = sent;
    this.#deps.metrics.leader.set(1);
    this.#deps.metrics.term.set(term);
    this.#deps.metrics.leadershipChanges.inc();
    this.#deps.logger.info({ replica: this.#deps.self.id, term, ring_revision: this.#ring?.revision ?? 0 }, 'became leader');
    this.#deps.onLead(term, this.#ring);
  }

  #observe(leader: LeaderRecord | undefined, replicas: readonly ReplicaRecord[]): void {
    const before = this.#leader;
    this.#leader = leader;
    this.#replicas = replicas;
    this.#deps.metrics.replicas.set(replicas.length);
    if (this.#term !== undefined && leader !== undefined && (leader.id !== this.#deps.self.id || leader.term !== this.#term)) this.#stepDown(`${leader.id} leads now (term ${leader.term})`);
    if (this.#term === undefined && leader?.id !== before?.id) {
      this.#deps.logger.info({ replica: this.#deps.self.id, leader: leader?.id ?? '(none)', term: leader?.term ?? 0 }, leader === undefined ? 'no leader' : 'following');
    }
  }

  /** Follower: adopt and acknowledge the newest ring read, one at a time. */
  async #adoptLatest(): Promise<void> {
    const ring = this.#ring;
    if (ring === undefined || ring.revision <= this.#acked || this.#adopting) return;
    this.#adopting = true;
    try {
      await this.#deps.adopt(ring);
      if (this.#term !== undefined || !this.sessionValid()) return;
      this.#acked = ring.revision;
      this.#ackedRing = ring;
      this.#deps.metrics.ackedRevision.set(ring.revision);
      // Acknowledge now, not on the next tick: the leader is waiting for it.
      await this.#heartbeat();
    } finally {
      this.#adopting = false;
    }
  }

  #leaderValidUntil(): number {
    if (this.#heartbeatAt === undefined) return -Infinity;
    return Math.min(this.#heartbeatAt, this.#campaignAt) + SAFETY * this.#ttl;
  }

  #stepDown(reason: string): void {
    const term = this.#term;
    if (term === undefined) return;
    this.#term = undefined;
    this.#deps.metrics.leader.set(0);
    this.#deps.metrics.leadershipChanges.inc();
    // When it stopped acting as leader: the earlier of now and the end of its leadership on its own clock
    // (a replica paused past it notices only when it runs again).
    const now = this.#deps.clock.now();
    const until = new Date(Date.now() - Math.max(0, now - Math.min(now, this.#leaderValidUntil()))).toISOString();
    this.#deps.logger.warn({ replica: this.#deps.self.id, term, reason, leader_until: until }, 'stopped leading');
    this.#deps.onStepDown(reason);
  }

  #storeFailed(err: unknown): void {
    const message = errorMessage(err);
    if (message !== this.#lastError) this.#deps.logger.warn({ replica: this.#deps.self.id, backend: this.#deps.backend.kind, err: message }, 'coordination store unreachable');
    this.#lastError = message;
    this.#deps.metrics.storeErrors.inc();
  }
}
