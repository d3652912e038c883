/**
 * The coordination store several shardgate replicas share: sessions (one per
 * replica), one leadership, and the ring the leader publishes. etcd v3 and
 * Kubernetes Leases implement it (etcd-backend.ts, kubernetes-lease-backend.ts);
 * the protocol on top of it is replica-session.ts, and docs/replicas.md says
 * why it is safe.
 *
 * Contract every backend keeps (test/replicas/backend-contract.ts checks it
 * against each one):
 * - `heartbeat` creates this replica's session if it has none (or lost it)
 *   and renews it, recording the ring revision the replica acknowledged. A
 *   session is alive in `read()` until `ttlMs` after the last heartbeat the
 *   store accepted. Leadership belongs to a session: when the session ends,
 *   so does the leadership held through it.
 * - `campaign` makes the caller leader when no live session holds
 *   leadership, and renews the caller's leadership when it holds it; it
 *   returns the leader after the call. Every acquisition gets a term
 *   strictly greater than every earlier one (the same replica acquiring
 *   again after losing leadership gets a new term).
 * - `publish(term, ring)` stores `ring` atomically if and only if leadership
 *   is still held under `term`: a deposed leader's publish returns false and
 *   changes nothing. It throws when the store cannot be reached or answers
 *   an error.
 * - `read` is a linearizable read: the live leader (undefined when its
 *   session ended), the last ring stored, and the live sessions.
 * - Every method throws when the store cannot be reached; none retries on
 *   its own (the session's loop retries on its next tick).
 */
import { type PublishedRing } from './published-ring.js';

export interface ReplicaIdentity {
  /** Unique among the replicas; stable across restarts (hostname:port by default). */
  readonly id: string;
  /** Where the other replicas reach this one (forwarded pushes, admin calls). */
  readonly url: string;
}

export interface ReplicaRecord extends ReplicaIdentity {
  /** The highest ring revision this replica has adopted and acknowledged (0: none yet). */
  readonly acked: number;
}

export interface LeaderRecord extends ReplicaIdentity {
  /** Strictly increasing over acquisitions; fences the leader's publications. */
  readonly term: number;
}

export interface StoreView {
  readonly leader: LeaderRecord | undefined;
  readonly ring: PublishedRing | undefined;
  /** Replicas whose sessions are alive, the caller's own included once it heartbeated. */
  readonly replicas: readonly ReplicaRecord[];
}

export type BackendKind = 'etcd' | 'kubernetes' | 'memory';

export interface CoordinationBackend {
  readonly kind: BackendKind;
  /** How long a session (and the leadership held through it) outlives its last accepted renewal. */
  readonly ttlMs: number;
  heartbeat(self: ReplicaRecord): Promise<void>;
  campaign(self: ReplicaIdentity): Promise<LeaderRecord | undefined>;
  publish(term: number, ring: PublishedRing): Promise<boolean>;
  read(): Promise<StoreView>;
  /** Gives up leadership held under `term` (clean shutdown); a no-op if not held. */
  resign(term: number): Promise<void>;
  /** Ends the session (clean shutdown) and releases the backend's connections. */
  close(): Promise<void>;
}
