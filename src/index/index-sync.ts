/**
 * Keeps the FleetIndex true to what the shards hold: built from every
 * shard's `GET /api/v1/metrics` at start-up, rebuilt the same way on a
 * timer and whenever a shard recovers, and changed in between by the push
 * path (gateway-check.ts), which reports each group it touches.
 *
 * A rebuild reads the shards while pushes go on; every group touched while
 * it reads keeps its live entry, so a push accepted meanwhile is never
 * lost. A rebuild finds what bypassed the gateway (a push straight to a
 * pushgateway); if that left the fleet inconsistent it is logged, and
 * `gateway` mode then rejects pushes as a checked pushgateway holding that
 * store would (every push), until the culprit group is deleted.
 *
 * Rebalancing moves groups between shards without changing them, so the
 * index (keyed by grouping key, not by shard) needs no hook for moves.
 */
import { groupId } from '../groupingkey/grouping-key.js';
import { type ApiGroup, familiesOf } from '../upstream/metrics-api.js';
import { readGroupingKey } from '../upstream/group-facts.js';
import { type MetricType, METRIC_TYPES } from '../exposition/metric-family.js';
import { type Logger } from '../telemetry/logger.js';
import { type FamilyEntry, FleetIndex } from './fleet-index.js';
import { type Pair, seriesIdentity } from './series.js';

export interface IndexSyncDeps {
  /** The shards to read (every healthy configured target). */
  readonly shards: () => readonly string[];
  readonly listGroups: (shard: string) => Promise<ApiGroup[]>;
  readonly logger: Logger;
  readonly intervalMs: number;
}

export class IndexSync {
  readonly #deps: IndexSyncDeps;
  #index = new FleetIndex();
  /** Groups touched by pushes since the running rebuild started reading; undefined when none runs. */
  #touched: Set<string> | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #wipedDuringRead = false;
  #timer: NodeJS.Timeout | undefined;
  readonly ready: Promise<void>;

  constructor(deps: IndexSyncDeps) {
    this.#deps = deps;
    this.ready = this.resync();
  }

  get index(): FleetIndex {
    return this.#index;
  }

  /**
   * Every shard acknowledged a wipe. Pushgateway deletes the groups
   * asynchronously, so the index is emptied now rather than re-read, and a
   * rebuild reading meanwhile keeps only groups pushed since.
   */
  wiped(): void {
    this.#index = new FleetIndex();
    this.#wipedDuringRead = true;
  }

  /** The push path changed this group in the index. */
  touched(id: string): void {
    this.#touched?.add(id);
  }

  start(): void {
    this.#timer = setInterval(() => void this.resync(), this.#deps.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Rebuilds from the shards; concurrent calls coalesce into one more run. */
  resync(): Promise<void> {
    if (this.#running !== undefined) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#rebuild()
      .catch((err: unknown) => {
        this.#touched = undefined;
        this.#deps.logger.error({ err: String(err) }, 'index: re-sync failed; the index stays as it was');
      })
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          void this.resync();
        }
      });
    return this.#running;
  }

  async #rebuild(): Promise<void> {
    const touched = (this.#touched = new Set());
    this.#wipedDuringRead = false;
    const shards = this.#deps.shards();
    const results = await Promise.allSettled(shards.map((s) => this.#deps.listGroups(s)));
    const next = new FleetIndex();
    let unreadable = 0;
    results.forEach((r, i) => {
      if (r.status === 'rejected') {
        unreadable++;
        this.#deps.logger.warn({ shard: shards[i], err: String(r.reason) }, 'index: shard could not be read; its groups are missing from the index until the next re-sync');
        return;
      }
      for (const group of r.value) {
        const key = readGroupingKey(group);
        if (key === undefined) continue;
        const id = groupId(key);
        if (!touched.has(id) && !this.#wipedDuringRead) next.setGroup(id, { key, families: familiesFromApi(group) });
      }
    });
    // Pushes handled while the shards were read are newer than what was read.
    for (const id of touched) next.setGroup(id, this.#index.group(id));
    this.#touched = undefined;
    this.#index = next;
    const problem = next.inconsistency();
    if (problem !== undefined) this.#deps.logger.warn({ problem: JSON.stringify(problem, (_k, v: unknown) => (v instanceof Set || v instanceof Map ? [...v] : v)) }, 'index: the shards hold inconsistent metrics (a push bypassed the gateway?); pushes are rejected until the culprit group is deleted');
    this.#deps.logger.debug({ groups: next.groupCount, shards: shards.length, unreadable }, 'index re-synced from the shards');
  }
}

export function familiesFromApi(group: ApiGroup): Map<string, FamilyEntry> {
  const families = new Map<string, FamilyEntry>();
  for (const [name, family] of familiesOf(group)) {
    const type: MetricType = METRIC_TYPES.find((t) => t === family.type) ?? 'HISTOGRAM';
    const series = family.metrics.map((m) => {
      const pairs: Pair[] = Object.entries(m.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return seriesIdentity(name, pairs);
    });
    families.set(name, { type, help: family.help ?? '', series });
  }
  return families;
}
