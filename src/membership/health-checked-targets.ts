/**
 * Static targets, each checked with `GET /-/healthy` every interval. A target
 * goes down after `fall` consecutive failures and comes back after `rise`
 * consecutive successes: a pushgateway that recovers is re-admitted on its
 * own. At start every target is checked once and admitted on its first
 * success, so a fresh fleet routes without waiting for `rise` rounds.
 *
 * Contract: checks of one target never overlap; `stop()` cancels the timer
 * and ignores checks still in flight.
 */
import { type Logger } from '../telemetry/logger.js';
import { type Metrics } from '../telemetry/metrics.js';
import { errorMessage } from '../upstream/upstream-error.js';
import { type Clock, systemClock } from '../time/clock.js';
import { type Health, type Membership, type MembershipListener, type TargetStatus } from './membership.js';

export interface HealthCheckSettings {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly fall: number;
  readonly rise: number;
}

/** Performs one check; resolves on healthy, rejects with the reason otherwise. */
export type HealthProbe = (target: string, timeoutMs: number) => Promise<void>;

interface TargetState {
  health: Health;
  lastCheck: Date | null;
  lastError: string | null;
  lastDurationSeconds: number | null;
  successes: number;
  failures: number;
  checking: boolean;
}

export class HealthCheckedTargets implements Membership {
  readonly #probe: HealthProbe;
  readonly #logger: Logger;
  readonly #metrics: Metrics;
  readonly #listeners: MembershipListener[] = [];
  readonly #states = new Map<string, TargetState>();
  readonly #onRecovering: ((target: string) => void) | undefined;
  #settings: HealthCheckSettings;
  #members: readonly string[] = [];
  #cancelTimer: (() => void) | undefined;
  readonly #clock: Clock;
  #stopped = false;

  /**
   * @param opts.onRecovering called at the first successful check of a target
   *   that is down, before `rise` re-admits it: the moment to clean its stale
   *   copies, since Prometheus may already be scraping it again.
   */
  constructor(opts: { targets: readonly string[]; settings: HealthCheckSettings; probe: HealthProbe; logger: Logger; metrics: Metrics; onRecovering?: (target: string) => void; clock?: Clock }) {
    this.#clock = opts.clock ?? systemClock;
    this.#onRecovering = opts.onRecovering;
    this.#probe = opts.probe;
    this.#logger = opts.logger;
    this.#metrics = opts.metrics;
    this.#settings = opts.settings;
    for (const t of opts.targets) this.#states.set(t, newState());
    this.#metrics.configuredShards.set(this.#states.size);
  }

  /** Runs the first round of checks, then checks every interval. */
  async start(): Promise<void> {
    await this.checkAll();
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    this.#cancelTimer?.();
  }

  members(): readonly string[] {
    return this.#members;
  }

  onChange(listener: MembershipListener): void {
    this.#listeners.push(listener);
  }

  statuses(): readonly TargetStatus[] {
    return [...this.#states].map(([target, s]) => ({
      target,
      health: s.health,
      lastCheck: s.lastCheck?.toISOString() ?? null,
      lastError: s.lastError,
      lastCheckDurationSeconds: s.lastDurationSeconds,
    }));
  }

  /** Replaces the target list (config reload). Known targets keep their state. */
  async setTargets(targets: readonly string[], settings: HealthCheckSettings): Promise<void> {
    const reschedule = settings.intervalMs !== this.#settings.intervalMs;
    this.#settings = settings;
    const wanted = new Set(targets);
    for (const t of [...this.#states.keys()]) {
      if (!wanted.has(t)) {
        this.#states.delete(t);
        this.#metrics.shardUp.remove({ shard: t });
      }
    }
    const added = targets.filter((t) => !this.#states.has(t));
    for (const t of added) this.#states.set(t, newState());
    this.#metrics.configuredShards.set(this.#states.size);
    this.#recompute('config reload');
    await Promise.all(added.map((t) => this.#check(t)));
    if (reschedule && !this.#stopped) {
      this.#cancelTimer?.();
      this.#schedule();
    }
  }

  /** Checks one target now (e.g. after a push to it failed to connect). */
  async checkNow(target: string): Promise<void> {
    if (this.#states.has(target)) await this.#check(target);
  }

  async checkAll(): Promise<void> {
    await Promise.all([...this.#states.keys()].map((t) => this.#check(t)));
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#cancelTimer = this.#clock.setTimer(() => {
      void this.checkAll().finally(() => this.#schedule());
    }, this.#settings.intervalMs);
  }

  async #check(target: string): Promise<void> {
    const state = this.#states.get(target);
    if (!state || state.checking || this.#stopped) return;
    state.checking = true;
    const started = performance.now();
    let error: string | null = null;
    try {
      await this.#probe(target, this.#settings.timeoutMs);
    } catch (err) {
      error = errorMessage(err) || 'health check failed';
    } finally {
      state.checking = false;
    }
    // The target may have been removed by a reload while we waited.
    if (this.#stopped || this.#states.get(target) !== state) return;
    const seconds = (performance.now() - started) / 1000;
    state.lastCheck = new Date();
    state.lastDurationSeconds = seconds;
    state.lastError = error;
    this.#metrics.healthChecks.inc({ shard: target, result: error === null ? 'success' : 'failure' });
    this.#metrics.healthCheckDuration.observe(seconds);
    const before = state.health;
    if (error === null) {
      state.successes++;
      state.failures = 0;
      if (state.health === 'unknown' || (state.health === 'down' && state.successes >= this.#settings.rise)) state.health = 'up';
    } else {
      state.failures++;
      state.successes = 0;
      if (state.health === 'unknown' || (state.health === 'up' && state.failures >= this.#settings.fall)) state.health = 'down';
    }
    this.#metrics.shardUp.set({ shard: target }, state.health === 'up' ? 1 : 0);
    if (error === null && state.health === 'down' && state.successes === 1) {
      this.#logger.info({ shard: target, rise: this.#settings.rise }, 'shard answers again; re-admission after rise checks');
      this.#onRecovering?.(target);
    }
    if (state.health !== before) {
      const level = state.health === 'up' ? 'info' : 'warn';
      this.#logger[level]({ shard: target, from: before, to: state.health, err: error ?? undefined }, 'shard health changed');
      this.#recompute(`${target} ${state.health}`);
    }
  }

  #recompute(cause: string): void {
    const next = [...this.#states]
      .filter(([, s]) => s.health === 'up')
      .map(([t]) => t)
      .sort();
    this.#metrics.healthyShards.set([...this.#states.values()].filter((s) => s.health === 'up').length);
    const prev = this.#members;
    if (prev.length === next.length && prev.every((m, i) => m === next[i])) return;
    this.#members = Object.freeze(next);
    this.#logger.info({ cause, old: prev.join(',') || '(none)', new: next.join(',') || '(none)' }, 'eligible members changed');
    for (const l of this.#listeners) l(prev, this.#members);
  }
}

function newState(): TargetState {
  return { health: 'unknown', lastCheck: null, lastError: null, lastDurationSeconds: null, successes: 0, failures: 0, checking: false };
}
