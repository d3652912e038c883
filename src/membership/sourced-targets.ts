/**
 * The glue between a membership source and the fleet: which targets are
 * configured (health-checked, eligible for the ring) given what the source
 * says. A shard is in the ring when the source lists it AND its health
 * checks pass; this class only decides the first half, and how a target
 * leaves.
 *
 * Rules for dynamic sources (file_sd, dns, ...; README "Membership sources"):
 *  - A target the source lists is configured at once (health checks gate
 *    the ring as for static targets).
 *  - Flap damping: a target the source stops listing leaves only after
 *    being absent from every answer for `removeAfterMs`; one that comes
 *    back within that time never left. A target listed as `terminating`
 *    leaves at once (its pod is in its grace period).
 *  - A leaving target that answers health checks is drained and dropped
 *    once drained (no movable group left, no unmovable one either). One
 *    that never answered is dropped at once; one that answered before and
 *    is down now may hold groups: it is kept (out of the ring) until it
 *    answers and is drained, or has been down for max(10 × removeAfter,
 *    5 min), then dropped. One that comes back while draining is undrained.
 *  - Shrink guard: an answer with no targets is ignored (a failure: the
 *    last set stays); at most max(1, floor(maxRemovalRatio × configured))
 *    source-driven drains run at once, the rest wait for one to finish, so
 *    a source that suddenly lists a fraction of the fleet never empties the
 *    ring in one step (and the coordinator never drains the last shard).
 *  - A failure keeps the last set. One log line per change of the source's
 *    state and per target event, never per poll.
 * The static source is applied exactly (a reload's list replaces the
 * targets at once, as before there were sources).
 *
 * Contract: sink calls may come at any time; the resulting changes to the
 * fleet are applied one at a time, in order (`settled()` waits for them).
 */
import { type Clock } from '../time/clock.js';
import { type Logger } from '../telemetry/logger.js';
import { type Metrics } from '../telemetry/metrics.js';
import { errorMessage } from '../upstream/upstream-error.js';
import { type HealthCheckSettings } from './health-checked-targets.js';
import { type DiscoveredTarget, type MembershipSource, type SourceSink } from './source.js';
import { type FleetControl } from './fleet-control.js';
import { SourceHealth } from './source-health.js';

export interface GuardSettings {
  readonly removeAfterMs: number;
  readonly maxRemovalRatio: number;
}

/** The source's state, as /api/v1/status and /api/v1/shards show it. */
export interface SourceStatus {
  readonly kind: string;
  readonly healthy: boolean;
  readonly last_error: string | null;
  /** RFC 3339 time of the last accepted answer. */
  readonly last_update: string | null;
  /** Targets in the last accepted answer. */
  readonly targets: number;
  readonly leaving: readonly { readonly target: string; readonly phase: LeavingPhase }[];
}

/** pending: absent for less than remove_after; held: waits for the shrink guard; draining; refused: the coordinator will not drain it (last shard). */
export type LeavingPhase = 'pending' | 'held' | 'draining' | 'refused' | 'unreachable';

/** One configured target as the source sees it. */
export interface SourcedTarget {
  readonly listed: boolean;
  readonly labels: Readonly<Record<string, string>>;
  readonly leaving: LeavingPhase | null;
}

interface Entry {
  labels: Readonly<Record<string, string>>;
  /** clock.now() of the first answer that did not list it; null while listed. */
  absentSince: number | null;
  /** Since when a leaving target has been down (kept meanwhile: it may hold groups). */
  downSince: number | null;
  terminating: boolean;
  /** This glue started its drain (an admin's drain is left alone until the target leaves). */
  drainedByUs: boolean;
  phase: LeavingPhase | null;
}

export interface SourcedTargetsDeps {
  readonly fleet: FleetControl;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Targets already configured in the fleet (main.ts: the static list it started the health checks with). */
  readonly initial: readonly string[];
  readonly guard: GuardSettings;
  readonly health: HealthCheckSettings;
  /** How often leaving targets are re-examined (drain progress, remove_after); also on every answer and `reconcile()`. */
  readonly tickMs: number;
  /** Called when a configured target's labels changed (discovery output). */
  readonly onLabelsChange?: () => void;
}

export class SourcedTargets implements SourceSink {
  readonly #deps: SourcedTargetsDeps;
  readonly #entries = new Map<string, Entry>();
  #guard: GuardSettings;
  #health: HealthCheckSettings;
  #source: MembershipSource | undefined;
  #applied: string;
  #queue: Promise<void> = Promise.resolve();
  readonly #state: SourceHealth;
  #cancelTick: (() => void) | undefined;
  #stopped = false;

  constructor(deps: SourcedTargetsDeps) {
    this.#deps = deps;
    this.#guard = deps.guard;
    this.#health = deps.health;
    this.#state = new SourceHealth(deps.logger, deps.metrics);
    for (const t of deps.initial) this.#entries.set(t, newEntry({}));
    this.#applied = [...deps.initial].sort().join(',');
  }

  get kind(): string {
    return this.#source?.kind ?? 'static';
  }

  /** Starts `source`; resolves once its first answer (or failure) was applied. */
  async start(source: MembershipSource): Promise<void> {
    this.#source = source;
    this.#scheduleTick();
    await source.start(this.#sinkFor(source));
    await this.settled();
  }

  /**
   * A reload: new guard and health settings, and `source` replaces the
   * running one unless it is undefined (the source's config did not change).
   * The static source's list replaces the targets at once.
   */
  async reconfigure(source: MembershipSource | undefined, guard: GuardSettings, health: HealthCheckSettings): Promise<void> {
    this.#guard = guard;
    this.#health = health;
    if (source === undefined) {
      // Health settings may have changed: hand the same list over again, as a reload always did.
      await this.#enqueue(() => this.#deps.fleet.setTargets(this.#targets(), health, this.kind === 'static'));
      return;
    }
    this.#source?.stop();
    this.#source = source;
    if (source.kind === 'static') this.#applied = ''; // a reload always hands the list over
    await source.start(this.#sinkFor(source));
    await this.settled();
  }

  stop(): void {
    this.#stopped = true;
    this.#cancelTick?.();
    this.#source?.stop();
  }

  // ---- SourceSink (for the running source) ----

  update(targets: readonly DiscoveredTarget[]): void {
    if (this.#stopped) return;
    const kind = this.kind;
    if (kind === 'static') {
      this.#state.accepted(kind, targets.length);
      this.#entries.clear();
      for (const t of targets) this.#entries.set(t.address, newEntry(t.labels));
      void this.#enqueue(() => this.#apply());
      return;
    }
    if (targets.length === 0) {
      this.#state.failed(kind, 'empty', `the source answered with no targets; ignored, keeping the last ${this.#entries.size} (shrink guard)`, this.#entries.size);
      return;
    }
    this.#state.accepted(kind, targets.length);
    const now = this.#deps.clock.now();
    const seen = new Set<string>();
    let labelsChanged = false;
    for (const t of targets) {
      seen.add(t.address);
      let e = this.#entries.get(t.address);
      if (e === undefined) {
        e = newEntry(t.labels);
        this.#entries.set(t.address, e);
        this.#deps.logger.info({ target: t.address, source: kind }, 'target listed by the membership source: added');
      } else if (!sameLabels(e.labels, t.labels)) {
        e.labels = t.labels;
        labelsChanged = true;
      }
      const wasLeaving = e.phase !== null;
      e.terminating = t.terminating === true;
      if (!e.terminating) e.absentSince = null;
      if (wasLeaving && !e.terminating) this.#comesBack(t.address, e);
    }
    for (const [target, e] of this.#entries) {
      // A terminating target that disappears stays terminating: it keeps leaving at once.
      if (!seen.has(target) && e.absentSince === null) e.absentSince = now;
    }
    if (labelsChanged) this.#deps.onLabelsChange?.();
    void this.reconcile();
  }

  failed(reason: string): void {
    if (this.#stopped) return;
    this.#state.failed(this.kind, 'failure', reason, this.#entries.size);
  }

  // ---- views ----

  status(): SourceStatus {
    return {
      kind: this.kind,
      healthy: this.#state.healthy,
      last_error: this.#state.lastError,
      last_update: this.#state.lastUpdate?.toISOString() ?? null,
      targets: this.#state.listed,
      leaving: [...this.#entries].flatMap(([target, e]) => (e.phase === null ? [] : [{ target, phase: e.phase }])),
    };
  }

  target(address: string): SourcedTarget | undefined {
    const e = this.#entries.get(address);
    return e && { listed: e.absentSince === null && !e.terminating, labels: e.labels, leaving: e.phase };
  }

  labelsOf(address: string): Readonly<Record<string, string>> {
    return this.#entries.get(address)?.labels ?? {};
  }

  /** Re-examines leaving targets now (drain progress, health); the result is applied in order. */
  reconcile(): Promise<void> {
    return this.#enqueue(() => this.#reconcileOnce());
  }

  /** Resolves once every change asked for so far was applied to the fleet. */
  settled(): Promise<void> {
    return this.#queue;
  }

  // ---- internals ----

  #sinkFor(source: MembershipSource): SourceSink {
    // A replaced source's late answers are ignored.
    return {
      update: (targets) => {
        if (this.#source === source) this.update(targets);
      },
      failed: (reason) => {
        if (this.#source === source) this.failed(reason);
      },
    };
  }

  #enqueue(fn: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(fn);
    this.#queue = run.catch((err: unknown) => this.#deps.logger.error({ err: errorMessage(err) }, 'applying membership changes failed'));
    return this.#queue;
  }

  #comesBack(target: string, e: Entry): void {
    if (e.drainedByUs) this.#deps.fleet.drain(target, false);
    this.#deps.logger.info({ target, phase: e.phase }, 'target listed again by the membership source: stays');
    e.drainedByUs = false;
    e.phase = null;
  }

  /** How long a leaving target that answered before may stay unreachable before it is dropped. */
  #unreachableGraceMs(): number {
    return Math.max(10 * this.#guard.removeAfterMs, 5 * 60_000);
  }

  async #reconcileOnce(): Promise<void> {
    if (this.kind === 'static' || this.#stopped) return this.#apply();
    const { fleet, clock, logger } = this.#deps;
    const now = clock.now();
    const leaving = [...this.#entries]
      .filter(([, e]) => e.terminating || (e.absentSince !== null && now - e.absentSince >= this.#guard.removeAfterMs))
      .sort(([a], [b]) => (a < b ? -1 : 1));
    const drop: string[] = [];
    // A drained target kept only for groups that cannot move does not hold up the others.
    let draining = leaving.filter(([t, e]) => e.drainedByUs && fleet.drainState(t)?.state !== 'drained').length;
    const budget = Math.max(1, Math.floor(this.#guard.maxRemovalRatio * this.#entries.size));
    for (const [target, e] of leaving) {
      const health = fleet.health(target);
      if (health === 'down') {
        // It answered before and may hold groups: kept (and drained if it answers again) for a while,
        // given up only after a long outage.
        e.downSince ??= now;
        if (now - e.downSince < this.#unreachableGraceMs()) {
          if (e.phase !== 'unreachable') logger.warn({ target }, 'target left the membership source and does not answer: kept until it answers (then drained) or the outage outlasts the grace');
          e.phase = 'unreachable';
          continue;
        }
        drop.push(target);
        logger.warn({ target, down_seconds: Math.round((now - e.downSince) / 1000) }, 'target left the membership source and stayed unreachable: dropped (what it held is given up)');
        continue;
      }
      e.downSince = null;
      if (health !== 'up') {
        drop.push(target);
        logger.info({ target, health: health ?? 'unknown' }, 'target left the membership source and never answered: dropped');
        continue;
      }
      if (e.drainedByUs) {
        const d = fleet.drainState(target);
        if (d?.state === 'drained' && d.groups_unmovable === 0) {
          drop.push(target);
          logger.info({ target }, 'target left the membership source and is drained: dropped');
        } else if (d === null) {
          e.drainedByUs = false; // an admin cancelled it: start again below
          draining--;
        } else continue;
      }
      if (!fleet.rebalancing) {
        drop.push(target);
        logger.warn({ target }, 'target left the membership source; the rebalancer is off, so it is dropped without a drain');
        continue;
      }
      if (fleet.drainState(target) !== null) {
        e.drainedByUs = true; // already draining (admin): the same path from here
        e.phase = 'draining';
        draining++;
        continue;
      }
      if (draining >= budget) {
        if (e.phase !== 'held') logger.warn({ target, draining, max_removal_ratio: this.#guard.maxRemovalRatio }, 'target left the membership source; its drain waits for others to finish (shrink guard)');
        e.phase = 'held';
        continue;
      }
      if (fleet.drain(target, true)) {
        e.drainedByUs = true;
        e.phase = 'draining';
        draining++;
        logger.info({ target, terminating: e.terminating }, 'target left the membership source: draining');
      } else {
        if (e.phase !== 'refused') logger.warn({ target }, 'target left the membership source but cannot be drained (last shard): kept');
        e.phase = 'refused';
      }
    }
    for (const [target, e] of this.#entries) if (e.phase === null && e.absentSince !== null && !leaving.some(([t]) => t === target)) e.phase = 'pending';
    for (const t of drop) this.#entries.delete(t);
    this.#countLeaving();
    await this.#apply();
  }

  #countLeaving(): void {
    const counts: Record<LeavingPhase, number> = { pending: 0, held: 0, draining: 0, refused: 0, unreachable: 0 };
    for (const e of this.#entries.values()) if (e.phase !== null) counts[e.phase]++;
    for (const [phase, n] of Object.entries(counts)) this.#deps.metrics.sourceLeaving.set({ phase }, n);
  }

  /** Hands the configured list to the fleet when it changed. */
  async #apply(): Promise<void> {
    const targets = this.#targets();
    const key = targets.join(',');
    if (key === this.#applied) return;
    this.#applied = key;
    await this.#deps.fleet.setTargets(targets, this.#health, this.kind === 'static');
  }

  #targets(): string[] {
    return [...this.#entries.keys()].sort();
  }

  #scheduleTick(): void {
    if (this.#stopped) return;
    this.#cancelTick = this.#deps.clock.setTimer(() => {
      void this.reconcile().finally(() => this.#scheduleTick());
    }, this.#deps.tickMs);
  }
}

function newEntry(labels: Readonly<Record<string, string>>): Entry {
  return { labels, absentSince: null, downSince: null, terminating: false, drainedByUs: false, phase: null };
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}
