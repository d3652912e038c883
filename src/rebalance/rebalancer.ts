/**
 * Keeps every group on exactly one shard across membership changes. It owns
 * the moment a new ring takes effect: a shard that joins (or recovers) is
 * published only after its stale copies are gone, and a draining shard keeps
 * its groups routed to it until each has moved. A shard that died is taken
 * out of the routing at once (its pushes would fail otherwise).
 *
 * Rounds run one at a time. A change that arrives during a round is picked
 * up by the next one; a periodic sweep runs a round even without a change,
 * which also resolves strays pushed around shardgate or left by another
 * shardgate replica.
 */
import { type Logger } from '../telemetry/logger.js';
import { type Metrics } from '../telemetry/metrics.js';
import { type ShardClient } from '../upstream/shard-client.js';
import { type Clock } from '../time/clock.js';
import { buildRing } from '../ring/rendezvous-ring.js';
import { type Ring } from '../ring/ring.js';
import { type GroupLocks } from './group-locks.js';
import { RateLimiter } from './rate-limiter.js';
import { runRound } from './round.js';

export interface RebalanceSettings {
  readonly sweepIntervalMs: number;
  readonly concurrency: number;
  readonly maxMovesPerSecond: number;
}

export interface PublishedRouting {
  readonly ring: Ring;
  readonly overrides: ReadonlyMap<string, string>;
}

export interface RebalancerDeps {
  readonly client: ShardClient;
  readonly clock: Clock;
  readonly locks: GroupLocks;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly timeoutMs: number;
  /** Targets that can be read now (health up): members, joiners and draining shards. */
  readonly readable: () => readonly string[];
  readonly current: () => PublishedRouting;
  readonly publish: (routing: PublishedRouting) => void;
}

export interface DrainState {
  readonly target: string;
  readonly state: 'draining' | 'drained';
  /** Groups still on the target after the last round, or null before one ran. */
  readonly groups_remaining: number | null;
  readonly since: string;
}

export class Rebalancer {
  readonly #deps: RebalancerDeps;
  readonly #limiter: RateLimiter;
  #settings: RebalanceSettings;
  #desired: readonly string[] = [];
  #dirty = false;
  #trigger = 'start';
  #running: Promise<void> | undefined;
  #cancelSweep: (() => void) | undefined;
  #stopped = false;
  readonly #drains = new Map<string, { since: Date; remaining: number | null }>();
  /** The overrides last published; moves settle by deleting from it in place (O(1) per move). */
  #overrides = new Map<string, string>();

  constructor(deps: RebalancerDeps, settings: RebalanceSettings) {
    this.#deps = deps;
    this.#settings = settings;
    this.#limiter = new RateLimiter(settings.maxMovesPerSecond, deps.clock);
  }

  set settings(s: RebalanceSettings) {
    this.#settings = s;
    this.#limiter.perSecond = s.maxMovesPerSecond;
  }

  /** New member set from membership. Dead leavers leave the routing now; the rest waits for a round. */
  setMembers(members: readonly string[], trigger: string): void {
    this.#desired = members;
    const readable = new Set(this.#deps.readable());
    const { ring } = this.#deps.current();
    const dead = ring.members.filter((m) => !members.includes(m) && !readable.has(m));
    let stranded = false;
    for (const [id, holder] of this.#overrides) {
      if (!readable.has(holder)) {
        this.#overrides.delete(id);
        stranded = true;
      }
    }
    if (dead.length > 0 || stranded) {
      this.#deps.publish({ ring: buildRing(ring.members.filter((m) => !dead.includes(m))), overrides: this.#overrides });
    }
    this.request(trigger);
  }

  startSweeping(): void {
    this.#schedule();
  }

  /** Resolves when no round is running or requested. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  stop(): void {
    this.#stopped = true;
    this.#cancelSweep?.();
  }

  drain(target: string, on: boolean): void {
    if (on && !this.#drains.has(target)) this.#drains.set(target, { since: new Date(), remaining: null });
    if (!on) this.#drains.delete(target);
  }

  drainState(target: string): DrainState | undefined {
    const d = this.#drains.get(target);
    if (!d) return undefined;
    return { target, state: d.remaining === 0 ? 'drained' : 'draining', groups_remaining: d.remaining, since: d.since.toISOString() };
  }

  /** Runs a round soon (after the current one): a change, a sweep, a shard that answers again. */
  request(trigger: string): void {
    this.#dirty = true;
    this.#trigger = trigger;
    if (!this.#running && !this.#stopped) this.#running = this.#loop().finally(() => (this.#running = undefined));
  }

  #schedule(): void {
    this.#cancelSweep?.();
    if (this.#stopped) return;
    this.#cancelSweep = this.#deps.clock.setTimer(() => {
      this.request('sweep');
      this.#schedule();
    }, this.#settings.sweepIntervalMs);
  }

  async #loop(): Promise<void> {
    while (this.#dirty && !this.#stopped) {
      this.#dirty = false;
      await this.#round(this.#trigger);
    }
  }

  async #round(trigger: string): Promise<void> {
    const { metrics, logger } = this.#deps;
    const members = this.#desired;
    const next = buildRing(members);
    const sources = this.#deps.readable();
    const started = performance.now();
    metrics.rebalanceInProgress.set(1);
    try {
      const result = await runRound(
        {
          client: this.#deps.client,
          locks: this.#deps.locks,
          limiter: this.#limiter,
          concurrency: this.#settings.concurrency,
          timeoutMs: this.#deps.timeoutMs,
          publish: (ring, overrides) => {
            this.#overrides = new Map(overrides);
            this.#deps.publish({ ring, overrides: this.#overrides });
          },
          settle: (id) => void this.#overrides.delete(id),
        },
        next,
        sources,
      );
      const seconds = (performance.now() - started) / 1000;
      for (const [target, d] of this.#drains) {
        const left = result.remaining.get(target);
        if (left !== undefined) d.remaining = left;
      }
      metrics.rebalanceRuns.inc({ trigger: trigger === 'sweep' ? 'sweep' : 'change', result: result.failures.length > 0 ? 'partial' : 'success' });
      metrics.rebalanceMoved.inc(result.moved);
      metrics.rebalanceDeleted.inc(result.deleted);
      metrics.rebalanceSkipped.inc(result.skipped);
      metrics.rebalanceFailures.inc(result.failures.length);
      metrics.rebalanceDuration.observe(seconds);
      metrics.rebalancePendingMoves.set(this.#overrides.size);
      if (result.failures.length === 0) metrics.rebalanceLastSuccess.set(Date.now() / 1000);
      const quiet = trigger === 'sweep' && result.moved + result.deleted + result.skipped + result.failures.length === 0;
      const line = {
        trigger,
        members: members.length,
        shards_read: sources.length,
        groups_seen: result.groupsSeen,
        moved: result.moved,
        deleted: result.deleted,
        skipped: result.skipped,
        failed: result.failures.length,
        duration_seconds: Number(seconds.toFixed(3)),
        first_failure: result.failures[0],
      };
      if (result.failures.length > 0) logger.warn(line, 'rebalance finished with failures; a later round retries');
      else if (quiet) logger.debug(line, 'sweep found nothing to do');
      else logger.info(line, 'rebalance finished');
      // Data changed under us or could not be moved: look again soon, not at the next sweep.
      if (result.skipped > 0 || this.#overrides.size > 0) this.#retrySoon();
    } catch (err) {
      metrics.rebalanceFailures.inc();
      logger.error({ trigger, err: err instanceof Error ? err.message : String(err) }, 'rebalance round failed');
      this.#retrySoon();
    } finally {
      metrics.rebalanceInProgress.set(0);
    }
  }

  #retrySoon(): void {
    if (this.#stopped) return;
    this.#deps.clock.setTimer(() => this.request('retry'), Math.min(5000, this.#settings.sweepIntervalMs));
  }
}
