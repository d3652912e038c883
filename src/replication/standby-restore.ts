/**
 * Puts a dead shard's groups back from the standbys onto their new owners.
 * The coordinator calls `restore` when a member leaves the ring without
 * having been read (its groups "start afresh on their new owners",
 * CopyLedger.lose); by then the routing already sends those groups to the
 * new owners.
 *
 * Per group, under its exclusive lock (no push of it is in flight, new ones
 * wait), PUT the standby's copy on the group's push target, unless:
 *  - a client write of the group was mirrored since the standbys were read
 *    (StandbyWriter.writtenSince): it is newer than the copy, it wins; a
 *    client DELETE, at any time, also wins (the standby may have missed it);
 *  - a write of it is in doubt (completion owns it).
 * A client write between the death and the read went to the standby too, so
 * the copy read already contains it. The PUT is reported to the coordinator
 * like a client PUT (writeBegins / writeEnds), so the copy ledger knows the
 * new owner holds the group's newest content and the rebalancer never lets
 * a returning dead shard's old copy win over it.
 */
import { groupId } from '../groupingkey/grouping-key.js';
import { upstreamPath } from '../groupingkey/upstream-path.js';
import { type GroupLocks } from '../rebalance/group-locks.js';
import { groupToExposition } from '../rebalance/exposition.js';
import { type WriteObserver } from '../proxy/push-router.js';
import { pushTarget, type RoutingTable } from '../proxy/push-target.js';
import { type Ring } from '../ring/ring.js';
import { type Logger } from '../telemetry/logger.js';
import { type Metrics } from '../telemetry/metrics.js';
import { type ApiGroup } from '../upstream/metrics-api.js';
import { pushTimeOf, readGroupingKey } from '../upstream/group-facts.js';
import { type ShardClient } from '../upstream/shard-client.js';
import { restorePlan, type StandbyCopy } from './restore-plan.js';
import { type StandbyWriter } from './standby-writer.js';

export interface StandbyRestoreDeps {
  readonly standbys: () => readonly string[];
  readonly client: ShardClient;
  readonly locks: GroupLocks;
  readonly routing: () => RoutingTable;
  readonly observer: Pick<WriteObserver, 'writeBegins' | 'writeEnds' | 'inDoubt'>;
  readonly writer: StandbyWriter;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly timeoutMs: number;
  /** PUTs in flight at once (default 8). */
  readonly concurrency?: number;
  /** Called after a restore put something back (gateway mode re-reads its index). */
  readonly onRestored?: () => void;
}

type Outcome = 'restored' | 'skipped' | 'failed';

export class StandbyRestore {
  readonly #deps: StandbyRestoreDeps;
  /** Restores run one after another: two deaths in a row each get a whole pass. */
  #queue: Promise<void> = Promise.resolve();

  constructor(deps: StandbyRestoreDeps) {
    this.#deps = deps;
  }

  /** Queues the restore of `dead`'s groups (its home on `ringBefore`); resolves when it is done. Never rejects. */
  restore(dead: string, ringBefore: Ring): Promise<void> {
    this.#queue = this.#queue.then(() => this.#run(dead, ringBefore)).catch((err: unknown) => {
      this.#deps.logger.error({ shard: dead, err: err instanceof Error ? err.message : String(err) }, 'restore from the standbys failed');
    });
    return this.#queue;
  }

  /** Resolves when every queued restore is done. */
  idle(): Promise<void> {
    return this.#queue;
  }

  async #run(dead: string, ringBefore: Ring): Promise<void> {
    const deps = this.#deps;
    const started = performance.now();
    // Read before the listings: a write mirrored after this may be newer than what they show.
    const seq = deps.writer.sequence;
    const standbys = deps.standbys();
    const unreadable: string[] = [];
    const copies: Array<StandbyCopy<ApiGroup>> = [];
    await Promise.all(
      standbys.map(async (standby) => {
        try {
          for (const group of await deps.client.listGroups(standby, deps.timeoutMs)) {
            const key = readGroupingKey(group);
            if (key !== undefined) copies.push({ standby, key, group, pushTimeSeconds: pushTimeOf(group) });
          }
        } catch {
          unreadable.push(standby);
        }
      }),
    );
    const plan = restorePlan(dead, ringBefore, standbys, copies);
    const counts: Record<Outcome, number> = { restored: 0, skipped: 0, failed: 0 };
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < plan.length) {
        const copy = plan[next++];
        if (copy === undefined) continue;
        const outcome = await this.#putBack(copy, seq);
        counts[outcome]++;
        deps.metrics.groupsRestored.inc({ result: outcome });
      }
    };
    await Promise.all(Array.from({ length: Math.min(deps.concurrency ?? 8, plan.length) }, worker));
    const seconds = (performance.now() - started) / 1000;
    deps.metrics.restoreDuration.observe(seconds);
    deps.logger.info({ shard: dead, ...counts, standbys_unreadable: unreadable.join(',') || '(none)', seconds: Number(seconds.toFixed(3)) }, 'restored a dead shard\'s groups from the standbys');
    if (counts.restored > 0) deps.onRestored?.();
  }

  #putBack(copy: StandbyCopy<ApiGroup>, seq: number): Promise<Outcome> {
    const deps = this.#deps;
    const id = groupId(copy.key);
    return deps.locks.withExclusive([id], async (): Promise<Outcome> => {
      if (deps.writer.writtenSince(id, seq) || deps.observer.inDoubt(id) !== undefined) return 'skipped';
      const target = pushTarget(deps.routing(), copy.key, id);
      if (target === undefined) return 'failed';
      let body: string;
      try {
        body = groupToExposition(copy.group);
      } catch {
        return 'failed';
      }
      deps.observer.writeBegins(id, copy.key, target);
      let acknowledged = false;
      try {
        await deps.client.push(target, 'PUT', upstreamPath(copy.key), body, deps.timeoutMs);
        acknowledged = true;
      } catch {
        // Left as it is: the standby still has the copy, but nothing retries it (see README, Replication).
      } finally {
        deps.observer.writeEnds(id, copy.key, target, 'PUT', acknowledged);
      }
      return acknowledged ? 'restored' : 'failed';
    });
  }
}
