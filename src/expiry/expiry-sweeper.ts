/**
 * Expires groups: every `expiry.interval`, read every readable shard, pick
 * the groups (their copy on the push target) whose last client push is
 * older than their rule allows, and delete them delete-if-unchanged
 * (delete-if-unchanged.ts). One log line per sweep that expired something.
 *
 * Contract: one sweep at a time; settings are read at each sweep (a reload
 * applies at the next one); stop() cancels the timer, a running sweep ends
 * on its own. The last push times a sweep saw are kept for the lookup
 * (`GET /metrics/job/...`) until the next sweep replaces them.
 */
import { type GroupingKey, groupId } from '../groupingkey/grouping-key.js';
import { pushTarget } from '../proxy/push-target.js';
import { type Clock } from '../time/clock.js';
import { type Logger } from '../telemetry/logger.js';
import { type Metrics } from '../telemetry/metrics.js';
import { errorMessage } from '../upstream/upstream-error.js';
import { readFleetGroups } from './fleet-groups.js';
import { deleteIfUnchanged, type DeleteIfUnchangedDeps, type ReadGroup } from './delete-if-unchanged.js';
import { decideExpiry, type ExpiryDecision, type ExpirySettings } from './rules.js';

export interface ExpirySweeperDeps extends DeleteIfUnchangedDeps {
  readonly settings: () => ExpirySettings | undefined;
  /** Shards worth reading (up, or answering again). */
  readonly shards: () => readonly string[];
  readonly clock: Clock;
  /** Wall-clock ms. */
  readonly wallNow: () => number;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Several replicas: only the leader sweeps. */
  readonly active?: () => boolean;
}

/** How often to look again when expiry is not configured (a reload may add it). */
const IDLE_MS = 30_000;

export class ExpirySweeper {
  readonly #deps: ExpirySweeperDeps;
  #cancel: (() => void) | undefined;
  #stopped = false;
  /** groupId → push_time_seconds read by the last sweep. */
  #seen = new Map<string, number | undefined>();

  constructor(deps: ExpirySweeperDeps) {
    this.#deps = deps;
  }

  start(): void {
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    this.#cancel?.();
  }

  /** The group's rule and expiry time as the lookup shows them (null: no rule, or not read yet). */
  describe(key: GroupingKey): ExpiryDecision | undefined {
    const settings = this.#deps.settings();
    if (settings === undefined) return undefined;
    const id = groupId(key);
    return decideExpiry(settings, key, { lastClientPushMs: this.#deps.observer.lastClientPush(id), pushTimeSeconds: this.#seen.get(id) }, this.#deps.wallNow());
  }

  /** One sweep; resolves with the number of groups expired. */
  async sweep(): Promise<number> {
    const settings = this.#deps.settings();
    if (settings === undefined || this.#deps.active?.() === false) return 0;
    const started = this.#deps.clock.now();
    const { observer, metrics } = this.#deps;
    const fleet = await readFleetGroups(this.#deps.client, this.#deps.shards(), this.#deps.timeoutMs);
    const routing = this.#deps.routing();
    const seen = new Map<string, number | undefined>();
    const due: ReadGroup[] = [];
    const rules = new Map<ReadGroup, string>();
    const now = this.#deps.wallNow();
    for (const copy of fleet.copies) {
      // The group is its copy where pushes go; other copies are the rebalancer's business.
      if (pushTarget(routing, copy.key, copy.id) !== copy.shard) continue;
      seen.set(copy.id, copy.pushTimeSeconds);
      const read: ReadGroup = { key: copy.key, shard: copy.shard, pushTimeSeconds: copy.pushTimeSeconds, lastClientPushMs: observer.lastClientPush(copy.id) };
      const decision = decideExpiry(settings, copy.key, { lastClientPushMs: read.lastClientPushMs, pushTimeSeconds: read.pushTimeSeconds }, now);
      if (!decision.expired || decision.rule === undefined) continue;
      due.push(read);
      rules.set(read, decision.rule.name);
    }
    this.#seen = seen;
    const results = due.length === 0 ? [] : await deleteIfUnchanged(this.#deps, due);
    const expired = new Map<string, number>();
    for (const r of results) {
      if (r.outcome === 'deleted') {
        const rule = rules.get(r.group) ?? '';
        expired.set(rule, (expired.get(rule) ?? 0) + 1);
        metrics.expiryExpired.inc({ rule });
      } else metrics.expirySkipped.inc({ reason: r.outcome });
    }
    const seconds = (this.#deps.clock.now() - started) / 1000;
    metrics.expirySweepDuration.observe(seconds);
    metrics.expiryLastSweep.set(Date.now() / 1000);
    const total = [...expired.values()].reduce((a, b) => a + b, 0);
    if (total > 0) {
      this.#deps.logger.info(
        { expired: total, by_rule: JSON.stringify(Object.fromEntries(expired)), left: results.length - total, duration_seconds: seconds.toFixed(3), ...(fleet.warnings.length > 0 ? { unread_shards: fleet.warnings.length } : {}) },
        'expiry sweep deleted groups',
      );
    }
    return total;
  }

  #schedule(): void {
    if (this.#stopped) return;
    const ms = this.#deps.settings()?.intervalMs ?? IDLE_MS;
    this.#cancel = this.#deps.clock.setTimer(() => {
      this.sweep()
        .catch((err: unknown) => this.#deps.logger.error({ err: errorMessage(err) }, 'expiry sweep failed'))
        .finally(() => this.#schedule());
    }, ms);
  }
}
