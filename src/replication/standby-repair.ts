/**
 * The standby sweep: keeps each group's first standby (in rendezvous order
 * over the current standby targets) equal to the group's copy on its
 * shard. That one rule repairs a standby that missed writes while it was
 * down (or came back empty), and a standby target added (the groups it now
 * wins are copied to it). Copies left on other standbys are harmless: a
 * restore takes the copy written last, which is the repaired one, and a
 * client DELETE reaches every standby.
 *
 * Per group, under its exclusive lock, PUT the shard's copy (as read) on
 * the first standby, unless a client write was mirrored since the read
 * (StandbyWriter.writtenSince: it went to the standbys itself), a write of
 * it is in doubt, or the group's push target is no longer the shard it was
 * read on (a move or a death since: the next sweep sees it where it is).
 */
import { groupId, shardKey } from '../groupingkey/grouping-key.js';
import { upstreamPath } from '../groupingkey/upstream-path.js';
import { type GroupLocks } from '../rebalance/group-locks.js';
import { groupToExposition } from '../rebalance/exposition.js';
import { type WriteObserver } from '../proxy/push-router.js';
import { pushTarget, type RoutingTable } from '../proxy/push-target.js';
import { type Clock } from '../time/clock.js';
import { type Logger } from '../telemetry/logger.js';
import { type Metrics } from '../telemetry/metrics.js';
import { type ShardClient } from '../upstream/shard-client.js';
import { readGroupingKey } from '../upstream/group-facts.js';
import { standbyOrder } from './standby-order.js';
import { type StandbyWriter } from './standby-writer.js';

export interface StandbyRepairDeps {
  readonly standbys: () => readonly string[];
  /** The shards to read: the healthy ones. */
  readonly shards: () => readonly string[];
  readonly client: ShardClient;
  readonly locks: GroupLocks;
  readonly routing: () => RoutingTable;
  readonly observer: Pick<WriteObserver, 'inDoubt'>;
  readonly writer: StandbyWriter;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly timeoutMs: number;
  readonly intervalMs: () => number;
}

/** What one group's text is on a pushgateway, rendered as a copy would be (undefined: cannot be copied). */
function rendered(group: Parameters<typeof groupToExposition>[0]): string | undefined {
  try {
    return groupToExposition(group);
  } catch {
    return undefined;
  }
}

export class StandbyRepair {
  readonly #deps: StandbyRepairDeps;
  #cancel: (() => void) | undefined;
  #stopped = false;

  constructor(deps: StandbyRepairDeps) {
    this.#deps = deps;
  }

  start(): void {
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    this.#cancel?.();
  }

  /** One sweep; resolves with the number of standby copies written. */
  async repairOnce(): Promise<number> {
    const deps = this.#deps;
    const seq = deps.writer.sequence;
    const standbys = deps.standbys();
    const held = new Map<string, Map<string, string | undefined>>();
    await Promise.all(
      standbys.map(async (s) => {
        const groups = await deps.client.listGroups(s, deps.timeoutMs).catch(() => undefined);
        if (groups === undefined) return;
        const byId = new Map<string, string | undefined>();
        for (const g of groups) {
          const key = readGroupingKey(g);
          if (key !== undefined) byId.set(groupId(key), rendered(g));
        }
        held.set(s, byId);
      }),
    );
    const todo: Array<{ id: string; shard: string; standby: string; key: NonNullable<ReturnType<typeof readGroupingKey>>; text: string }> = [];
    await Promise.all(
      deps.shards().map(async (shard) => {
        const groups = await deps.client.listGroups(shard, deps.timeoutMs).catch(() => []);
        for (const g of groups) {
          const key = readGroupingKey(g);
          if (key === undefined) continue;
          const id = groupId(key);
          // Only the copy the routing sends pushes to is the group; another is stale or moving.
          if (pushTarget(deps.routing(), key, id) !== shard) continue;
          const standby = standbyOrder(shardKey(key), standbys)[0];
          const onStandby = standby === undefined ? undefined : held.get(standby);
          if (standby === undefined || onStandby === undefined) continue;
          const text = rendered(g);
          if (text === undefined || onStandby.get(id) === text) continue;
          todo.push({ id, shard, standby, key, text });
        }
      }),
    );
    let written = 0;
    for (const t of todo) {
      const ok = await deps.locks.withExclusive([t.id], async () => {
        if (deps.writer.writtenSince(t.id, seq) || deps.observer.inDoubt(t.id) !== undefined) return false;
        if (pushTarget(deps.routing(), t.key, t.id) !== t.shard) return false;
        return deps.client.push(t.standby, 'PUT', upstreamPath(t.key), t.text, deps.timeoutMs).then(
          () => true,
          () => false,
        );
      });
      if (ok) written++;
    }
    deps.metrics.standbyRepaired.inc(written);
    if (written > 0) deps.logger.info({ written, differing: todo.length }, 'standby sweep repaired standby copies');
    return written;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#cancel = this.#deps.clock.setTimer(() => {
      this.repairOnce()
        .catch((err: unknown) => this.#deps.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'standby sweep failed'))
        .finally(() => this.#schedule());
    }, this.#deps.intervalMs());
  }
}
