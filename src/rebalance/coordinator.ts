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
import { CopyLedger } from './copy-ledger.js';
import { WriteJournal } from './write-journal.js';
import { UnmovableGroups, type UnmovableGroup } from './unmovable-groups.js';
import { Rebalancer, type RebalanceSettings } from './rebalancer.js';
import { type RoundResult } from './round.js';
import { type DrainState, Drains } from './drains.js';
import { InDoubtWrites, type InDoubtWrite } from './in-doubt-writes.js';

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
   * Replication hook (src/replication/): `member` left the ring without its
   * groups having been read (CopyLedger.lose); called once the routing
   * sends them to their new owners. Must not block: it queues the restore.
   */
  readonly onMemberLost?: (member: string, ringBefore: Ring) => void;
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

  constructor(deps: CoordinatorDeps, rebalance: RebalanceSettings & { readonly enabled: boolean }) {
    this.#deps = deps;
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
    this.#ledger.written(method, key, id, target);
    // A PUT or DELETE replaces whatever an earlier write in doubt would have left.
    if (method !== 'POST' && this.#inDoubt.get(id) !== undefined) this.#settleInDoubt(id, 'superseded');
  }

  writeInDoubt(id: string, write: InDoubtWrite): void {
    const before = this.#inDoubt.forgotten;
    this.#inDoubt.remember(id, write);
    const forgotten = this.#inDoubt.forgotten - before;
    if (forgotten > 0) this.#deps.metrics.inDoubtSettled.inc({ result: 'forgotten' }, forgotten);
    this.#deps.metrics.inDoubtWrites.set(this.#inDoubt.size);
  }

  beforePost(id: string, target: string): 'stale' | 'older' | undefined {
    // Without the rebalancer nothing reconciles copies: pushes go where the ring says, as they are.
    if (!this.#rebalancer) return undefined;
    const blocker = this.#ledger.beforePost(id, target);
    if (blocker === 'older') this.#rebalancer?.request('reconcile');
    return blocker;
  }

  staleCopyDeleted(id: string, shard: string): void {
    this.#ledger.clearedForPost(id, shard);
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
    if (dead.length > 0 || stranded.length > 0) {
      const before = this.#ring;
      for (const m of dead) this.#ledger.lose(m, before);
      for (const [id, holder] of stranded) this.#ledger.loseGroup(id, holder);
      const overrides = new Map([...this.#overrides].filter(([, holder]) => readable.has(holder)));
      this.#publish(buildRing(before.members.filter((m) => !dead.includes(m))), overrides);
      // Replication: the dead members' groups come back from the standbys onto the owners just published.
      for (const m of dead) this.#deps.onMemberLost?.(m, before);
    }
    this.#rebalancer.request(trigger);
  }

  #publish(ring: Ring, overrides: Map<string, string>): void {
    const changed = ring.members.join(',') !== this.#ring.members.join(',');
    this.#ring = ring;
    this.#overrides = overrides;
    this.#routing = { ring, overrides };
    this.#deps.metrics.rebalancePendingMoves.set(overrides.size);
    if (changed) {
      this.#deps.metrics.ringMembers.set(ring.members.length);
      this.#deps.metrics.ringChanges.inc();
      this.#deps.logger.info({ members: ring.members.join(',') || '(none)', pending_moves: overrides.size }, 'ring published');
    }
    this.#discoveryMayHaveChanged();
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

  #roundDone(result: RoundResult): void {
    for (const shard of result.read) {
      const left = result.remaining.get(shard);
      const unmovable = this.#unmovable.on(shard).length;
      if (left !== undefined) this.#drains.progress(shard, left - unmovable, unmovable, result.stamp);
      if (!result.unsettled.has(shard)) this.#ledger.found(shard, result.epoch);
    }
    this.#deps.metrics.rebalanceUnmovable.set(this.#unmovable.size);
    this.#deps.metrics.rebalanceMarkedCopies.set(this.#ledger.size);
    this.#discoveryMayHaveChanged();
  }

  #discoveryMayHaveChanged(): void {
    const key = JSON.stringify(this.discovery());
    if (key === this.#discoveryKey) return;
    this.#discoveryKey = key;
    this.#deps.onDiscoveryChange?.();
  }
}
