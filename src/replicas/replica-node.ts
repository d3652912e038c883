/**
 * This process as one of several shardgate replicas: its session in the
 * coordination store, the write fence it holds while it leads, the count of
 * writes it sends itself, and the gate that forwards to the leader what it
 * must not carry out. main.ts and the deterministic simulation both build
 * one of these around a Coordinator; docs/replicas.md explains the protocol.
 */
import { buildRing } from '../ring/rendezvous-ring.js';
import { type Clock } from '../time/clock.js';
import { type Logger } from '../telemetry/logger.js';
import { type RoutingTable } from '../proxy/push-target.js';
import { type SdTargetGroup } from '../discovery/http-sd.js';
import { type PublishedState } from '../rebalance/coordinator.js';
import { type CoordinationBackend, type ReplicaIdentity } from './coordination-backend.js';
import { type PublishedRing } from './published-ring.js';
import { ReplicaSession } from './replica-session.js';
import { WriteFence } from './write-fence.js';
import { LocalWrites } from './local-writes.js';
import { type ReplicaMetrics } from './replica-metrics.js';

export interface ReplicaNodeDeps {
  readonly backend: CoordinationBackend;
  readonly self: ReplicaIdentity;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: ReplicaMetrics;
  readonly pollMs: number;
  /** See ReplicaSessionDeps.maxWriteDelayMs. */
  readonly maxWriteDelayMs: number;
  /** Without an answer from the store for this long, the replica says it is not ready. */
  readonly notReadyAfterMs: number;
  /** False in gateway consistency-check mode: followers forward every write. */
  readonly directAllowed: boolean;
  readonly coordinator: {
    takeOver(state: PublishedState | undefined): void;
    stepDown(): void;
    takenOver(): boolean;
    publishedState(): PublishedState;
    routing(): RoutingTable;
    discovery(): SdTargetGroup[];
  };
  /** A follower adopted a ring (its discovery may have changed). */
  readonly onAdopt?: (ring: PublishedRing) => void;
}

/** What /api/v1/status shows about the replicas. */
export interface ReplicaStatus {
  readonly backend: string;
  readonly self: string;
  readonly role: 'leader' | 'follower';
  readonly leader: { readonly id: string; readonly url: string; readonly term: number } | null;
  readonly ring_revision: number;
  readonly ring_revision_acknowledged: number;
  readonly direct: boolean;
  readonly write_fence_held: boolean;
  readonly replicas: ReadonlyArray<{ readonly id: string; readonly url: string; readonly acknowledged: number }>;
  readonly store_error: string | null;
  readonly seconds_since_store_contact: number | null;
}

export class ReplicaNode {
  readonly session: ReplicaSession;
  readonly fence: WriteFence;
  readonly metrics: ReplicaMetrics;
  readonly writes: LocalWrites;
  readonly #deps: ReplicaNodeDeps;
  #table: { readonly ring: PublishedRing; readonly routing: RoutingTable } | undefined;

  constructor(deps: ReplicaNodeDeps) {
    this.#deps = deps;
    this.metrics = deps.metrics;
    this.writes = new LocalWrites(() => this.mayWrite());
    this.session = new ReplicaSession({
      backend: deps.backend,
      self: deps.self,
      clock: deps.clock,
      logger: deps.logger,
      metrics: deps.metrics,
      pollMs: deps.pollMs,
      maxWriteDelayMs: deps.maxWriteDelayMs,
      adopt: (ring) => this.#adopt(ring),
      onLead: (_term, ring) => {
        this.fence.reset();
        deps.coordinator.takeOver(ring);
      },
      onStepDown: () => {
        this.fence.reset();
        deps.coordinator.stepDown();
      },
    });
    this.fence = new WriteFence({ session: this.session, state: () => deps.coordinator.publishedState(), logger: deps.logger, directAllowed: deps.directAllowed });
  }

  start(): Promise<void> {
    return this.session.start();
  }

  stop(): Promise<void> {
    return this.session.stop();
  }

  leading(): boolean {
    return this.session.leading();
  }

  /**
   * Whether this replica may send a write to a shard now (the gate asks
   * before it takes a push, LocalWrites at the last moment): it leads, or it
   * follows a settled fleet (the ring it acknowledged and the newest it read
   * both say direct), and either way the lease it relies on outlives the write.
   */
  mayWrite(): boolean {
    const session = this.session;
    if (session.leading()) return session.mayWriteAsLeader() && this.#deps.coordinator.takenOver();
    const acknowledged = session.acknowledged();
    const direct = this.#deps.directAllowed && session.mayWriteAsFollower() && acknowledged?.direct === true && session.ring?.direct === true;
    this.#deps.metrics.direct.set(direct ? 1 : 0);
    return direct;
  }

  /** Where this replica's pushes go: the leader's own routing, or the ring a follower acknowledged. */
  routing(): RoutingTable {
    if (this.session.leading()) return this.#deps.coordinator.routing();
    const ring = this.session.acknowledged() ?? this.session.ring;
    if (ring === undefined) return this.#deps.coordinator.routing();
    if (this.#table?.ring !== ring) this.#table = { ring, routing: { ring: buildRing(ring.members), overrides: new Map(ring.overrides) } };
    return this.#table.routing;
  }

  /** What Prometheus should scrape: the leader's answer, as computed or as published. */
  discovery(): SdTargetGroup[] {
    if (this.session.leading()) return this.#deps.coordinator.discovery();
    return [...(this.session.ring?.discovery ?? [])];
  }

  /**
   * Why this replica's view of the ring may be stale (undefined: current):
   * a follower whose session lapsed no longer sees what the leader publishes.
   */
  staleView(): string | undefined {
    if (this.session.leading() || this.session.sessionValid()) return undefined;
    return `replica ${this.#deps.self.id} has no valid session in the coordination store (${this.session.lastError ?? 'not renewed in time'}): its view of the shards may be stale; ask another replica`;
  }

  /** Why this replica is not ready (undefined: ready). */
  notReady(): string | undefined {
    const since = this.session.sinceContact();
    if (since === undefined) return `no answer from the coordination store (${this.#deps.backend.kind}) yet${this.session.lastError === null ? '' : `: ${this.session.lastError}`}`;
    if (since > this.#deps.notReadyAfterMs) return `no answer from the coordination store (${this.#deps.backend.kind}) for ${Math.round(since / 1000)}s: ${this.session.lastError ?? 'unknown error'}`;
    return undefined;
  }

  status(): ReplicaStatus {
    const { session } = this;
    const leader = session.leader;
    const since = session.sinceContact();
    return {
      backend: this.#deps.backend.kind,
      self: this.#deps.self.id,
      role: session.leading() ? 'leader' : 'follower',
      leader: leader === undefined ? null : { id: leader.id, url: leader.url, term: leader.term },
      ring_revision: session.ring?.revision ?? 0,
      ring_revision_acknowledged: session.acked,
      direct: session.ring?.direct ?? false,
      write_fence_held: this.fence.held(),
      replicas: session.replicas.map((r) => ({ id: r.id, url: r.url, acknowledged: r.acked })),
      store_error: session.lastError,
      seconds_since_store_contact: since === undefined ? null : Math.round(since) / 1000,
    };
  }

  /**
   * Follower: safe to acknowledge `ring` once, if it fences, no write this
   * replica let through before is still on its way (the leader is not
   * writing yet: it waits for this acknowledgement). A follower keeps no
   * write in doubt to complete (Coordinator.writeInDoubt): it cannot know
   * whether another replica's write has superseded it.
   */
  async #adopt(ring: PublishedRing): Promise<void> {
    if (!ring.direct) await this.writes.drained();
    this.#deps.onAdopt?.(ring);
  }
}
