/**
 * The one owner of the routing and of everything that decides it: the
 * published ring, the overrides that keep a group on the shard holding it
 * until it moved, the drains, the copy ledger, the write journal, and which
 * shards Prometheus should scrape. Membership reports health; the
 * coordinator decides what takes effect, through rebalance rounds when the
 * rebalancer is on, directly when it is off. The protocol is described in
 * docs/rebalancing.md.
 *
 * main.ts and the deterministic simulation both build one of these, so the
 * simulation runs the same wiring as production.
 */
import { type Logger } from '../telemetry/logger.js';
import { type Metrics } from '../telemetry/metrics.js';
import { type ShardClient } from '../upstream/shard-client.js';
import { type Clock } from '../time/clock.js';
import { type GroupingKey } from '../groupingkey/grouping-key.js';
import { buildRing } from '../ring/rendezvous-ring.js';
import { type Ring } from '../ring/ring.js';
import { type RoutingTable } from '../proxy/push-target.js';
import { type TargetStatus } from '../membership/membership.js';
import { type HealthCheckedTargets, type HealthCheckSettings } from '../membership/health-checked-targets.js';
import { sdTargetGroups, type OutsideShard, type SdTargetGroup } from '../discovery/http-sd.js';
import { ShardgateError } from '../http/errors.js';
import { type GroupLocks } from './group-locks.js';
import { CopyLedger, type LedgerSnapshot } from './copy-ledger.js';
import { WriteJournal } from './write-journal.js';
import { UnmovableGroups, type UnmovableGroup } from './unmovable-groups.js';
import { Rebalancer, type RebalanceFence, type RebalanceSettings } from './rebalancer.js';
import { type RoundResult } from './round.js';
import { type DrainState, Drains } from './drains.js';
import { InDoubtWrites, type InDoubtWrite } from './in-doubt-writes.js';

/** How soon dropping a dead shard is tried again when the write fence could not be held (several replicas). */
const DEAD_SHARD_RETRY_MS = 1000;

export interface CoordinatorDeps {
  readonly client: ShardClient;
  readonly clock: Clock;
  readonly locks: GroupLocks;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly membership: HealthCheckedTargets;
  /** Deadline for the rebalancer's reads and writes to one pushgateway. */
  readonly timeoutMs: number;
  /** Called whenever the discovery list may have changed (ring, drain started, ended or emptied). */
  readonly onDiscoveryChange?: () => void;
  /** Completes the writes in doubt (PushRouter.completeInDoubt); run before every rebalance round. */
  readonly completeInDoubt?: () => Promise<void>;
  /** What the membership source knows about a target, published in discovery as `__meta_shardgate_<name>`. */
  readonly sourceLabels?: (target: string) => Readonly<Record<string, string>>;
  /** Wall-clock ms (Date.now by default), for the time of a group's last client push (expiry). */
  readonly wallNow?: () => number;
  /**
   * Several replicas (replicas/): this coordinator decides only while its
   * replica leads, and writes to the shards only under the write fence.
   * Without it, one process decides alone, as it always did.
   */
  readonly fence?: CoordinatorFence;
  /**
   * Replication hook (src/replication/): `member` left the ring without its
   * groups having been read (CopyLedger.lose); called once the routing
   * sends them to their new owners. Must not block: it queues the restore.
   */
  readonly onMemberLost?: (member: string, ringBefore: Ring) => void;
}

/** The replicas' write fence, as the coordinator uses it (replicas/write-fence.ts implements it). */
export interface CoordinatorFence extends RebalanceFence {
  /** The fleet is settled: followers may write directly again. */
  release(): void;
  /** The published state changed (ring, drains, discovery). */
  changed(): void;
  /** Publishes the state now; resolves once stored. */
  flush(): Promise<void>;
}

/** What the leader publishes for the other replicas (replicas/published-ring.ts). */
export interface PublishedState {
  readonly members: readonly string[];
  readonly overrides: ReadonlyArray<readonly [string, string]>;
  readonly draining: readonly string[];
  readonly discovery: readonly SdTargetGroup[];
  readonly ledger?: LedgerSnapshot | undefined;
}

export type { DrainState } from './drains.js';

/** A target's status as the API shows it: health from membership, the rest from here. */
export interface ShardView extends TargetStatus {
  readonly inRing: boolean;
  readonly draining: boolean;
  readonly drain: DrainState | null;
  readonly unmovable: readonly UnmovableGroup[];
}

export class Coordinator {
  readonly #deps: CoordinatorDeps;
  readonly #rebalancer: Rebalancer | undefined;
  readonly #ledger = new CopyLedger();
  readonly #journal = new WriteJournal();
  readonly #unmovable = new UnmovableGroups();
  readonly #drains = new Drains();
  readonly #inDoubt = new InDoubtWrites();
  #ring: Ring = buildRing([]);
  /** Owned here: replaced on publish, entries dropped as groups settle. */
  #overrides = new Map<string, string>();
  #routing: RoutingTable = { ring: this.#ring, overrides: this.#overrides };
  #discoveryKey = '';
  /** Orders drain starts and round starts: a round's counts apply only to drains that started before it. */
  #stamp = 0;
  /** Expiry hook: groupId → wall-clock ms of the last acknowledged client PUT/POST (moves are not writes here). */
  readonly #lastClientPush = new Map<string, number>();
  #lastStamp = 0;
  /** The ledger version last handed to the fence for publication (several replicas). */
  #publishedLedger = -1;
  /** The state version (#stateVersion) known to be stored (several replicas). */
  #flushedState = -1;
  /** Bumped whenever a ring is published (members or overrides replaced): part of what the next leader needs. */
  #ringVersion = 0;
  /** False from taking over leadership until the first round after it completed: no client write is carried out meanwhile. */
  #takenOver: boolean;

  constructor(deps: CoordinatorDeps, rebalance: RebalanceSettings & { readonly enabled: boolean }) {
    this.#deps = deps;
    // Several replicas: nothing is carried out until this replica leads and has taken over.
    this.#takenOver = deps.fence === undefined;
    this.#rebalancer = rebalance.enabled
      ? new Rebalancer(
          {
            clock: deps.clock,
            logger: deps.logger,
            metrics: deps.metrics,
            wanted: () => this.#wanted(),
            readable: () => this.#readable(),
            beforeRound: deps.completeInDoubt,
            round: {
              client: deps.client,
              locks: deps.locks,
              ledger: this.#ledger,
              journal: this.#journal,
              unmovable: this.#unmovable,
              timeoutMs: deps.timeoutMs,
              clock: deps.clock,
              begin: () => ++this.#stamp,
              onTwoCopies: (seconds) => deps.metrics.rebalanceTwoCopySeconds.observe(seconds),
              routing: () => this.#routing,
              publish: (ring, overrides, read) => {
                // A member that leaves without having been read leaves its groups behind, like a failed one.
                const before = this.#ring;
                const lost = before.members.filter((m) => !ring.members.includes(m) && !read.has(m));
                for (const m of lost) this.#ledger.lose(m, before);
                this.#publish(ring, new Map(overrides));
                // Replication: after the publish, so a restore finds the groups' new owners in the routing.
                for (const m of lost) deps.onMemberLost?.(m, before);
              },
              settle: (id) => this.#settle(id),
              wanted: () => this.#wanted(),
            },
            roundDone: (result) => this.#roundDone(result),
            fence: deps.fence,
            unsettled: () => !this.#settled(),
          },
          rebalance,
        )
      : undefined;
    deps.membership.onChange(() => this.#membershipChanged('membership'));
  }

  get rebalancing(): boolean {
    return this.#rebalancer !== undefined;
  }

  routing(): RoutingTable {
    return this.#routing;
  }

  // ---- what the push path reports (PushRouter) ----

  /** A write of `key` is about to be sent to `target`. */
  writeBegins(id: string, key: GroupingKey, target: string): void {
    this.#journal.begin(id, key, target);
  }

  /** The write begun for `id` has its answer: `acknowledged` when the pushgateway answered 2xx. */
  writeEnds(id: string, key: GroupingKey, target: string, method: 'PUT' | 'POST' | 'DELETE', acknowledged: boolean): void {
    this.#journal.end(id);
    if (!acknowledged) return;
    // Expiry hook (src/expiry/): a group's age runs from its last client push, whatever moves it since.
    if (method === 'DELETE') this.#lastClientPush.delete(id);
    else {
      // Strictly increasing, so two pushes within one millisecond still tell apart (delete-if-unchanged compares them).
      const now = (this.#deps.wallNow ?? Date.now)();
      this.#lastStamp = now > this.#lastStamp ? now : this.#lastStamp + 0.001;
      this.#lastClientPush.set(id, this.#lastStamp);
    }
    // While followers write directly (several replicas, fence released), this replica sees only some of the
    // group's writes: what its own would teach the ledger (a tombstone, a last home) may be false by the next
    // round. Only facts a follower's write cannot make false are kept: a DELETE's missed fan-out (deleteMissed).
    if (this.#deps.fence === undefined || this.#deps.fence.held()) this.#ledger.written(method, key, id, target);
    // A PUT or DELETE replaces whatever an earlier write in doubt would have left.
    if (method !== 'POST' && this.#inDoubt.get(id) !== undefined) this.#settleInDoubt(id, 'superseded');
    this.#ledgerMayHaveChanged();
  }

  writeInDoubt(id: string, write: InDoubtWrite): void {
    // Several replicas: a write in doubt can be completed only by a replica all later writes of the group go
    // through (the leader holding the fence); anywhere else a completion could land over a newer push.
    if (this.#deps.fence !== undefined && !this.#deps.fence.held()) {
      this.#deps.metrics.inDoubtSettled.inc({ result: 'forgotten' });
      return;
    }
    const before = this.#inDoubt.forgotten;
    this.#inDoubt.remember(id, write);
    const forgotten = this.#inDoubt.forgotten - before;
    if (forgotten > 0) this.#deps.metrics.inDoubtSettled.inc({ result: 'forgotten' }, forgotten);
    this.#deps.metrics.inDoubtWrites.set(this.#inDoubt.size);
  }

  beforePost(id: string, key: GroupingKey, target: string): 'stale' | 'older' | undefined {
    // Without the rebalancer nothing reconciles copies: pushes go where the ring says, as they are.
    if (!this.#rebalancer) return undefined;
    // Several replicas: only the leader's ledger, under the fence, knows the copies (a settled fleet has no marks).
    if (this.#deps.fence !== undefined && !this.#deps.fence.held()) return undefined;
    const blocker = this.#ledger.beforePost(id, key, target);
    if (blocker === 'older') this.#rebalancer?.request('reconcile');
    return blocker;
  }

  staleCopyDeleted(id: string, shard: string): void {
    this.#ledger.clearedForPost(id, shard);
    this.#ledgerMayHaveChanged();
  }

  inDoubt(id: string): InDoubtWrite | undefined {
    return this.#inDoubt.get(id);
  }

  inDoubtIds(): readonly string[] {
    return this.#inDoubt.ids();
  }

  inDoubtSettled(id: string, result: 'completed' | 'rejected' | 'superseded'): void {
    if (this.#inDoubt.get(id) !== undefined) this.#settleInDoubt(id, result);
  }

  /** Where a DELETE must also go: every configured shard but the target, and whether it can be reached now. */
  deleteFanOut(target: string): Array<{ readonly shard: string; readonly reachable: boolean }> {
    const readable = new Set(this.#readable());
    return this.#deps.membership
      .statuses()
      .filter((s) => s.target !== target)
      .map((s) => ({ shard: s.target, reachable: readable.has(s.target) }));
  }

  /** An acknowledged DELETE of `id` could not be confirmed on `shard`: its copy is stale. */
  deleteMissed(id: string, shard: string): void {
    this.#ledger.deleteMissed(id, shard);
    this.#ledgerMayHaveChanged();
  }

  /**
   * Expiry and bulk delete hook (src/expiry/): wall-clock ms at which this
   * process last acknowledged a client PUT or POST of the group (a completed
   * write in doubt counts), undefined if none since it started or since the
   * group's last DELETE. Their deletes go through writeBegins/writeEnds and
   * deleteMissed like a client DELETE, so the ledger records them as one.
   */
  lastClientPush(id: string): number | undefined {
    return this.#lastClientPush.get(id);
  }

  // ---- several replicas ----

  /** The state the leader publishes (replicas/write-fence.ts). */
  publishedState(): PublishedState {
    return {
      members: this.#ring.members,
      overrides: [...this.#overrides],
      draining: this.#drains.targets(),
      discovery: this.discovery(),
      ledger: this.#ledger.snapshot(),
    };
  }

  /**
   * This replica became leader: it routes by the last published ring (the
   * groups in motion stay pinned where the old leader left them), resumes
   * its drains, and forgets what it learnt as a follower (CopyLedger.clear);
   * its first round then reads the shards, under the fence if anything must
   * change.
   */
  /**
   * Several replicas: resolves once the copy ledger, as this write left it,
   * is stored for the next leader (WriteObserver.durable). Only writes that
   * changed it wait: DELETEs, re-creations, writes of groups with marked copies.
   */
  durable(): Promise<void> | undefined {
    const fence = this.#deps.fence;
    const version = this.#stateVersion();
    if (fence === undefined || version <= this.#flushedState || !fence.leading()) return undefined;
    return fence.flush().then(() => {
      if (this.#flushedState < version) this.#flushedState = version;
    });
  }

  /**
   * Several replicas: whether this leader has finished taking over (its
   * first round read the shards with the ledger it restored). Until then it
   * carries out no client write: the overrides and ledger it inherited may
   * be a little older than what the last leader did.
   */
  takenOver(): boolean {
    return this.#takenOver;
  }

  /** This replica stopped leading: its writes in doubt can no longer be completed safely (see writeInDoubt). */
  stepDown(): void {
    this.#forgetInDoubt();
    // What it knew as leader is the next leader's to know (published); kept, it would mislead this follower's pushes.
    this.#ledger.clear();
  }

  takeOver(published: PublishedState | undefined): void {
    this.#forgetInDoubt();
    this.#takenOver = false;
    if (published?.ledger !== undefined) this.#ledger.restore(published.ledger);
    else this.#ledger.clear();
    this.#publishedLedger = this.#ledger.version;
    this.#flushedState = this.#stateVersion();
    this.#lastClientPush.clear();
    if (published !== undefined) {
      const known = new Set(this.#deps.membership.statuses().map((s) => s.target));
      for (const t of this.#drains.targets()) if (!published.draining.includes(t)) this.#drains.cancel(t);
      for (const t of published.draining) if (known.has(t)) this.#drains.start(t, new Date(), ++this.#stamp);
      this.#publish(buildRing(published.members.filter((m) => known.has(m))), new Map(published.overrides.filter(([, shard]) => known.has(shard))));
    }
    this.#rebalancer?.request('leader elected');
  }

  // ---- lifecycle and admin ----

  /** A shard that was down answers again: clean its stale copies before it is re-admitted. */
  shardRecovering(target: string): void {
    this.#rebalancer?.request(`recovering ${target}`);
  }

  /** Members the next round publishes: healthy and not draining. */
  wantedMembers(): readonly string[] {
    return this.#wanted();
  }

  /**
   * A new target list: membership checks the new ones; drains of removed
   * ones end. A reload (`forgetRemoved`) also forgets what the ledger knows
   * about removed ones. A membership source keeps it (`false`): a target it
   * dropped while unreachable may be listed again with its old copies, which
   * the ledger must still mark stale or merge.
   */
  async setTargets(targets: readonly string[], health: HealthCheckSettings, forgetRemoved = true): Promise<void> {
    await this.#deps.membership.setTargets(targets, health);
    const keep = new Set(targets);
    for (const t of this.#drains.targets()) if (!keep.has(t)) this.#drains.cancel(t);
    if (forgetRemoved) for (const t of this.#ledger.shards()) if (!keep.has(t)) this.#ledger.forgetShard(t);
    this.#ledgerMayHaveChanged();
  }

  set settings(s: RebalanceSettings) {
    if (this.#rebalancer) this.#rebalancer.settings = s;
  }

  startSweeping(): void {
    this.#rebalancer?.startSweeping();
  }

  async idle(): Promise<void> {
    await this.#rebalancer?.idle();
  }

  stop(): void {
    this.#rebalancer?.stop();
  }

  /**
   * Starts (on) or cancels (off) the drain of `target`. Undefined for an
   * unknown target. Refuses (409) to drain the last shard of the ring.
   */
  drain(target: string, on: boolean): DrainState | { readonly target: string; readonly state: 'active' } | undefined {
    if (!this.#rebalancer) throw new ShardgateError('SHARDGATE_NOT_FOUND', 'drain needs the rebalancer, which is disabled');
    if (!this.#deps.membership.statuses().some((s) => s.target === target)) return undefined;
    if (on && !this.#drains.has(target)) {
      const left = this.#deps.membership.members().filter((m) => m !== target && !this.#drains.has(m));
      if (left.length === 0) throw new ShardgateError('SHARDGATE_CONFLICT', `cannot drain ${target}: it is the last shard that could take its groups`);
      this.#drains.start(target, new Date(), ++this.#stamp);
    }
    if (!on) this.#drains.cancel(target);
    this.#membershipChanged(on ? `drain ${target}` : `undrain ${target}`);
    return this.#drains.state(target) ?? { target, state: 'active' };
  }

  drainState(target: string): DrainState | null {
    return this.#drains.state(target) ?? null;
  }

  /** Every configured target, with its drain and the groups that cannot leave it. */
  shards(): ShardView[] {
    const ring = new Set(this.#ring.members);
    return this.#deps.membership.statuses().map((s) => ({
      ...s,
      draining: this.#drains.has(s.target),
      inRing: ring.has(s.target),
      drain: this.#drains.state(s.target) ?? null,
      unmovable: this.#unmovable.on(s.target),
    }));
  }

  /**
   * The shards Prometheus should scrape: the ring's members, plus any shard
   * that is up and still holds groups the routing sends there (a draining
   * shard until it is empty, or holds only groups that cannot move).
   */
  discovery(): SdTargetGroup[] {
    // What the routing sends to a shard outside the ring is exactly its overrides
    // (moves not yet done, unmovable groups pinned there). Any other copy on it is
    // stale or not yet adopted, and scraping it would show a second copy.
    const routedTo = new Set(this.#overrides.values());
    const outside: OutsideShard[] = this.#deps.membership.statuses().map((s) => ({
      target: s.target,
      up: s.health === 'up',
      state: this.#drains.state(s.target)?.state ?? 'draining',
      holdsGroups: routedTo.has(s.target) || this.#unmovable.on(s.target).length > 0,
    }));
    return sdTargetGroups(this.#ring.members, outside, this.#deps.sourceLabels);
  }

  /** The membership source changed a target's labels: the discovery list may change. */
  labelsChanged(): void {
    this.#discoveryMayHaveChanged();
  }

  // ---- internals ----

  #wanted(): string[] {
    return this.#deps.membership.members().filter((m) => !this.#drains.has(m));
  }

  /** Up, or answering again while it earns its rise: its stale copies must go now. */
  #readable(): string[] {
    return this.#deps.membership
      .statuses()
      .filter((s) => s.health === 'up' || (s.lastCheck !== null && s.lastError === null))
      .map((s) => s.target);
  }

  #membershipChanged(trigger: string): void {
    const fence = this.#deps.fence;
    // A follower's view decides nothing: the leader's published ring does.
    if (fence !== undefined && !fence.leading()) return;
    const wanted = this.#wanted();
    if (!this.#rebalancer) {
      // Replication without the rebalancer: a member that left and cannot be read still has its groups restored.
      const before = this.#ring;
      const readable = new Set(this.#readable());
      this.#publish(buildRing(wanted), new Map());
      for (const m of before.members) if (!wanted.includes(m) && !readable.has(m)) this.#deps.onMemberLost?.(m, before);
      return;
    }
    // A member that left and cannot be read leaves the routing now (its pushes would fail);
    // its groups start afresh on their new owners and the ledger remembers it lost them.
    const readable = new Set(this.#readable());
    const dead = this.#ring.members.filter((m) => !wanted.includes(m) && !readable.has(m));
    const stranded = [...this.#overrides].filter(([, holder]) => !readable.has(holder));
    if ((dead.length > 0 || stranded.length > 0) && fence !== undefined && !fence.held()) {
      // Followers may be writing directly by the current ring: fence them before it changes.
      fence.acquire().then(
        () => this.#membershipChanged(trigger),
        (err: unknown) => {
          this.#deps.logger.warn({ trigger, err: err instanceof Error ? err.message : String(err) }, 'cannot hold the write fence to drop a dead shard; retrying');
          this.#deps.clock.setTimer(() => this.#membershipChanged(trigger), DEAD_SHARD_RETRY_MS);
        },
      );
      return;
    }
    if (dead.length > 0 || stranded.length > 0) {
      // A member a reload removed is forgotten (setTargets), not lost: its copies are out of reach for good.
      const configured = new Set(this.#deps.membership.statuses().map((st) => st.target));
      const before = this.#ring;
      for (const m of dead) if (configured.has(m)) this.#ledger.lose(m, before);
      for (const [id, holder] of stranded) this.#ledger.loseGroup(id, holder);
      const overrides = new Map([...this.#overrides].filter(([, holder]) => readable.has(holder)));
      this.#publish(buildRing(before.members.filter((m) => !dead.includes(m))), overrides);
      // Replication: the dead members' groups come back from the standbys onto the owners just published.
      for (const m of dead) this.#deps.onMemberLost?.(m, before);
    }
    this.#rebalancer.request(trigger);
  }

  /** Grows with every change of what the leader publishes for its successor (ledger, ring, overrides). */
  #stateVersion(): number {
    return this.#ledger.version + this.#ringVersion;
  }

  #publish(ring: Ring, overrides: Map<string, string>): void {
    this.#ringVersion++;
    const changed = ring.members.join(',') !== this.#ring.members.join(',');
    this.#ring = ring;
    this.#overrides = overrides;
    this.#routing = { ring, overrides };
    this.#deps.metrics.rebalancePendingMoves.set(overrides.size);
    this.#ledgerMayHaveChanged();
    if (changed) {
      this.#deps.fence?.changed();
      this.#deps.metrics.ringMembers.set(ring.members.length);
      this.#deps.metrics.ringChanges.inc();
      this.#deps.logger.info({ members: ring.members.join(',') || '(none)', pending_moves: overrides.size }, 'ring published');
    }
    this.#discoveryMayHaveChanged();
  }

  #forgetInDoubt(): void {
    const ids = this.#inDoubt.ids();
    for (const id of ids) this.#inDoubt.forget(id);
    if (ids.length > 0) this.#deps.metrics.inDoubtSettled.inc({ result: 'forgotten' }, ids.length);
    this.#deps.metrics.inDoubtWrites.set(this.#inDoubt.size);
  }

  #settleInDoubt(id: string, result: 'completed' | 'rejected' | 'superseded'): void {
    this.#inDoubt.forget(id);
    this.#deps.metrics.inDoubtSettled.inc({ result });
    this.#deps.metrics.inDoubtWrites.set(this.#inDoubt.size);
  }

  #settle(id: string): void {
    // The routing table shares this map: the proxy sees the group go to its owner at once.
    this.#overrides.delete(id);
    this.#deps.metrics.rebalancePendingMoves.set(this.#overrides.size);
  }

  /**
   * Nothing in motion that followers' direct writes could race: no group
   * off its owner but unmovable ones, no marked copy or lost home, no write
   * in doubt, no drain under way.
   */
  #settled(): boolean {
    if (this.#inDoubt.size > 0 || this.#ledger.size > 0 || this.#ledger.shards().size > 0) return false;
    if ([...this.#overrides].some(([id, shard]) => !this.#unmovable.on(shard).some((u) => u.id === id))) return false;
    return this.#drains.targets().every((t) => this.#drains.state(t)?.state === 'drained');
  }

  #roundDone(result: RoundResult): void {
    this.#takenOver = true;
    for (const shard of result.read) {
      const left = result.remaining.get(shard);
      const unmovable = this.#unmovable.on(shard).length;
      if (left !== undefined) this.#drains.progress(shard, left - unmovable, unmovable, result.stamp);
      if (!result.unsettled.has(shard)) this.#ledger.found(shard, result.epoch);
    }
    this.#deps.metrics.rebalanceUnmovable.set(this.#unmovable.size);
    this.#deps.metrics.rebalanceMarkedCopies.set(this.#ledger.size);
    this.#discoveryMayHaveChanged();
    this.#ledgerMayHaveChanged();
    // A quiet round over every member of a settled fleet: the leader lets followers write directly again.
    const fence = this.#deps.fence;
    const quiet = result.moved + result.merged + result.deleted + result.skipped + result.failures.length === 0 && result.unsettled.size === 0;
    const allRead = this.#ring.members.every((m) => result.read.includes(m));
    if (fence?.held() === true && quiet && allRead && this.#settled()) {
      // Followers' direct writes will not reach this ledger: its remaining facts (tombstones, last homes)
      // would be wrong about groups they re-create, so it starts afresh, as a restarted shardgate does.
      this.#ledger.clear();
      fence.release();
    }
  }

  /** Several replicas: the leader republishes when its ledger changed (coalesced by the fence). */
  #ledgerMayHaveChanged(): void {
    const fence = this.#deps.fence;
    if (fence === undefined || this.#ledger.version === this.#publishedLedger || !fence.leading()) return;
    this.#publishedLedger = this.#ledger.version;
    fence.changed();
  }

  #discoveryMayHaveChanged(): void {
    const key = JSON.stringify(this.discovery());
    if (key === this.#discoveryKey) return;
    this.#discoveryKey = key;
    this.#deps.onDiscoveryChange?.();
    this.#deps.fence?.changed();
  }
}
