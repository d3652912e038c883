/**
 * An in-memory coordination store with etcd's semantics as the backend
 * contract states them (src/replicas/coordination-backend.ts): sessions
 * that end `ttlMs` after the last renewal the store *received* (judged on
 * the store's clock, like an etcd lease), leadership held through a session
 * and ended with it, terms that only grow (etcd: the leader key's
 * create_revision), publication by compare-and-swap on the term.
 *
 * For the unit tests and the deterministic simulation: each replica gets a
 * handle (`backend(id)`); a handle can be cut off (its calls fail, as an
 * unreachable store does) and every call can be delayed by an injected
 * function (the simulation's network).
 */
import { type Clock } from '../../src/time/clock.js';
import { type CoordinationBackend, type LeaderRecord, type ReplicaIdentity, type ReplicaRecord, type StoreView } from '../../src/replicas/coordination-backend.js';
import { type PublishedRing } from '../../src/replicas/published-ring.js';

interface Session {
  readonly record: ReplicaRecord;
  expiresAt: number;
  readonly serial: number;
}

export class MemoryStore {
  readonly #clock: Clock;
  readonly ttlMs: number;
  readonly #sessions = new Map<string, Session>();
  #leader: { readonly id: string; readonly url: string; readonly term: number; readonly session: number } | undefined;
  #ring: PublishedRing | undefined;
  #lastTerm = 0;
  #serial = 0;
  readonly #cut = new Set<string>();
  /** Every publication the store accepted: who, under which term, which revision (for "one leader per revision"). */
  readonly accepted: Array<{ readonly leader: string; readonly term: number; readonly revision: number }> = [];
  /** Injected latency for each call of a handle (the simulation's network); none by default. */
  delay: ((replica: string) => Promise<void>) | undefined;

  constructor(clock: Clock, ttlMs: number) {
    this.#clock = clock;
    this.ttlMs = ttlMs;
  }

  backend(id: string): CoordinationBackend {
    return new MemoryBackend(this, id);
  }

  /** Calls from `id` fail until `heal(id)`. */
  cut(id: string): void {
    this.#cut.add(id);
  }

  heal(id: string): void {
    this.#cut.delete(id);
  }

  get ring(): PublishedRing | undefined {
    return this.#ring;
  }

  leaderNow(): LeaderRecord | undefined {
    this.#expire();
    return this.#leader === undefined ? undefined : { id: this.#leader.id, url: this.#leader.url, term: this.#leader.term };
  }

  /** @internal the handle's entry point: the call goes through the (simulated) network, then runs atomically. */
  async call<T>(id: string, op: () => T): Promise<T> {
    await this.delay?.(id);
    if (this.#cut.has(id)) throw new Error(`coordination store unreachable from ${id}`);
    this.#expire();
    const result = op();
    // The answer travels back through the network too.
    await this.delay?.(id);
    if (this.#cut.has(id)) throw new Error(`coordination store unreachable from ${id} (answer lost)`);
    return result;
  }

  heartbeat(self: ReplicaRecord): void {
    const s = this.#sessions.get(self.id);
    const expiresAt = this.#clock.now() + this.ttlMs;
    if (s === undefined) this.#sessions.set(self.id, { record: self, expiresAt, serial: ++this.#serial });
    else this.#sessions.set(self.id, { record: self, expiresAt, serial: s.serial });
  }

  campaign(self: ReplicaIdentity): LeaderRecord | undefined {
    const session = this.#sessions.get(self.id);
    if (this.#leader === undefined && session !== undefined) {
      this.#leader = { id: self.id, url: self.url, term: ++this.#lastTerm, session: session.serial };
    }
    return this.leaderNow();
  }

  publish(id: string, term: number, ring: PublishedRing): boolean {
    if (this.#leader === undefined || this.#leader.id !== id || this.#leader.term !== term) return false;
    this.#ring = ring;
    this.accepted.push({ leader: id, term, revision: ring.revision });
    return true;
  }

  read(): StoreView {
    return { leader: this.leaderNow(), ring: this.#ring, replicas: [...this.#sessions.values()].map((s) => s.record) };
  }

  resign(id: string, term: number): void {
    if (this.#leader?.id === id && this.#leader.term === term) this.#leader = undefined;
  }

  close(id: string): void {
    this.#sessions.delete(id);
    if (this.#leader?.id === id) this.#leader = undefined;
  }

  #expire(): void {
    const now = this.#clock.now();
    for (const [id, s] of this.#sessions) if (s.expiresAt <= now) this.#sessions.delete(id);
    const leader = this.#leader;
    if (leader !== undefined && this.#sessions.get(leader.id)?.serial !== leader.session) this.#leader = undefined;
  }
}

class MemoryBackend implements CoordinationBackend {
  readonly kind = 'memory';
  readonly #store: MemoryStore;
  readonly #id: string;

  constructor(store: MemoryStore, id: string) {
    this.#store = store;
    this.#id = id;
  }

  get ttlMs(): number {
    return this.#store.ttlMs;
  }

  heartbeat(self: ReplicaRecord): Promise<void> {
    return this.#store.call(this.#id, () => this.#store.heartbeat(self));
  }

  campaign(self: ReplicaIdentity): Promise<LeaderRecord | undefined> {
    return this.#store.call(this.#id, () => this.#store.campaign(self));
  }

  publish(term: number, ring: PublishedRing): Promise<boolean> {
    return this.#store.call(this.#id, () => this.#store.publish(this.#id, term, ring));
  }

  read(): Promise<StoreView> {
    return this.#store.call(this.#id, () => this.#store.read());
  }

  resign(term: number): Promise<void> {
    return this.#store.call(this.#id, () => this.#store.resign(this.#id, term));
  }

  close(): Promise<void> {
    return this.#store.call(this.#id, () => this.#store.close(this.#id));
  }
}
