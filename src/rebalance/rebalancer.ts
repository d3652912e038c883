/**
 * Runs rebalance rounds (round.ts), one at a time: on a membership change,
 * a drain, a shard that answers again, and every sweep interval (which also
 * resolves strays pushed around shardgate). A change that arrives during a
 * round is picked up by the next one; a round that left work behind
 * (skipped actions, failures, pending moves) is retried soon.
 *
 * The state a round reads and changes (routing, ledger, journal, drains)
 * belongs to the Coordinator; this class owns only the schedule, the rate
 * limiter and the reporting (metrics, one log line per round).
 */
import { type Logger } from '../telemetry/logger.js';
import { type Metrics } from '../telemetry/metrics.js';
import { type Clock } from '../time/clock.js';
import { buildRing } from '../ring/rendezvous-ring.js';
import { RateLimiter } from './rate-limiter.js';
import { runRound, type RoundDeps, type RoundResult } from './round.js';

export interface RebalanceSettings {
  readonly sweepIntervalMs: number;
  readonly concurrency: number;
  readonly maxMovesPerSecond: number;
}

export interface RebalancerDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The member set the next round should publish. */
  readonly wanted: () => readonly string[];
  /** Targets that can be read now: members, joiners, draining and recovering shards. */
  readonly readable: () => readonly string[];
  /** Runs before each round (completing pushes in doubt); a failure is logged, the round goes on. */
  readonly beforeRound?: (() => Promise<void>) | undefined;
  /** The round's view of the coordinator's state (all but the limiter and settings). */
  readonly round: Omit<RoundDeps, 'limiter' | 'concurrency'>;
  /** Called with every round's result, before the next one starts. */
  readonly roundDone: (result: RoundResult) => void;
  /** Several replicas: rounds run only on the leader, and write only under the fence (replicas/write-fence.ts). */
  readonly fence?: RebalanceFence | undefined;
  /** Whether something is in motion that only fenced rounds resolve (overrides, marked copies, writes in doubt, drains). */
  readonly unsettled?: () => boolean;
}

/** What the rebalancer needs of the replicas' write fence. */
export interface RebalanceFence {
  leading(): boolean;
  held(): boolean;
  /** Resolves once held; rejects when leadership is lost first. */
  acquire(): Promise<void>;
}

/** How soon a round that left work behind is retried. */
const RETRY_MS = 5000;

export class Rebalancer {
  readonly #deps: RebalancerDeps;
  readonly #limiter: RateLimiter;
  #settings: RebalanceSettings;
  #dirty = false;
  #trigger = 'start';
  #running: Promise<void> | undefined;
  #cancelSweep: (() => void) | undefined;
  #cancelRetry: (() => void) | undefined;
  #stopped = false;

  constructor(deps: RebalancerDeps, settings: RebalanceSettings) {
    this.#deps = deps;
    this.#settings = settings;
    this.#limiter = new RateLimiter(settings.maxMovesPerSecond, deps.clock);
  }

  set settings(s: RebalanceSettings) {
    const resweep = s.sweepIntervalMs !== this.#settings.sweepIntervalMs;
    this.#settings = s;
    this.#limiter.perSecond = s.maxMovesPerSecond;
    if (resweep && this.#cancelSweep) this.startSweeping();
  }

  startSweeping(): void {
    this.#cancelSweep?.();
    if (this.#stopped) return;
    this.#cancelSweep = this.#deps.clock.setTimer(() => {
      this.request('sweep');
      this.startSweeping();
    }, this.#settings.sweepIntervalMs);
  }

  /** Resolves when no round is running or requested. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  stop(): void {
    this.#stopped = true;
    this.#cancelSweep?.();
    this.#cancelRetry?.();
  }

  /** Runs a round soon (after the current one). */
  request(trigger: string): void {
    this.#dirty = true;
    this.#trigger = trigger;
    if (!this.#running && !this.#stopped) this.#running = this.#loop().finally(() => (this.#running = undefined));
  }

  async #loop(): Promise<void> {
    while (this.#dirty && !this.#stopped) {
      this.#dirty = false;
      await this.#round(this.#trigger);
    }
  }

  async #round(trigger: string): Promise<void> {
    const { metrics, logger, clock, fence } = this.#deps;
    // Several replicas: only the leader rebalances; anything in motion needs the fence before a round.
    if (fence !== undefined) {
      if (!fence.leading()) return;
      if (!fence.held() && (this.#deps.unsettled?.() ?? false) && !(await this.#acquire(fence))) return;
    }
    const started = clock.now();
    // Writes in doubt are completed first, as acknowledged writes the plan then accounts for.
    if (fence === undefined || fence.held()) {
      await this.#deps.beforeRound?.().catch((err: unknown) => logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'completing pushes in doubt failed'));
    }
    const members = this.#deps.wanted();
    const sources = this.#deps.readable();
    metrics.rebalanceInProgress.set(1);
    try {
      const mayWrite = fence === undefined ? undefined : () => fence.held();
      const result = await runRound({ ...this.#deps.round, limiter: this.#limiter, concurrency: this.#settings.concurrency, mayWrite }, buildRing(members), sources);
      if (result.fenceNeeded === true && fence !== undefined) {
        // Read while followers wrote directly: fence them, then read again.
        if (await this.#acquire(fence)) this.request(trigger);
        return;
      }
      this.#deps.roundDone(result);
      const seconds = (clock.now() - started) / 1000;
      const failed = result.failures.length;
      metrics.rebalanceRuns.inc({ trigger: trigger === 'sweep' ? 'sweep' : 'change', result: failed > 0 ? 'partial' : 'success' });
      metrics.rebalanceMoved.inc(result.moved);
      metrics.rebalanceDeleted.inc(result.deleted);
      metrics.rebalanceSkipped.inc(result.skipped);
      metrics.rebalanceFailures.inc(failed);
      metrics.rebalanceDuration.observe(seconds);
      if (failed === 0) metrics.rebalanceLastSuccess.set(Date.now() / 1000);
      const line = {
        trigger,
        members: members.length,
        shards_read: result.read.length,
        groups_seen: result.groupsSeen,
        moved: result.moved,
        merged: result.merged,
        deleted: result.deleted,
        skipped: result.skipped,
        failed,
        duration_seconds: Number(seconds.toFixed(3)),
        first_failure: result.failures[0],
      };
      const quiet = result.moved + result.merged + result.deleted + result.skipped + failed === 0;
      if (failed > 0) logger.warn(line, 'rebalance finished with failures; a later round retries');
      else if (quiet && trigger === 'sweep') logger.debug(line, 'sweep found nothing to do');
      else logger.info(line, 'rebalance finished');
      if (!quiet || sources.length < members.length) this.#retrySoon();
    } catch (err) {
      metrics.rebalanceFailures.inc();
      logger.error({ trigger, err: err instanceof Error ? err.message : String(err) }, 'rebalance round failed');
      this.#retrySoon();
    } finally {
      metrics.rebalanceInProgress.set(0);
    }
  }

  /** Acquires the fence; false (logged, retried soon) when it could not be. */
  async #acquire(fence: RebalanceFence): Promise<boolean> {
    try {
      await fence.acquire();
      return true;
    } catch (err) {
      this.#deps.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'cannot hold the write fence; rebalancing waits');
      this.#retrySoon();
      return false;
    }
  }

  #retrySoon(): void {
    if (this.#stopped) return;
    this.#cancelRetry?.();
    this.#cancelRetry = this.#deps.clock.setTimer(() => this.request('retry'), Math.min(RETRY_MS, this.#settings.sweepIntervalMs));
  }
}
