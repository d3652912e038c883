/**
 * One rebalance round, carried out so that Prometheus never scrapes a stale
 * copy and no acknowledged write is lost (docs/rebalancing.md states the
 * invariants and why each step keeps them):
 *
 *  1. Open the write journal, read every reachable shard, plan (plan.ts).
 *  2. Deletes and merges, per source in batches under the groups' exclusive
 *     locks: re-read the source; delete a copy only if it is still the one
 *     planned on; merge by re-reading the target too.
 *  3. Publish the next ring, in one synchronous step with closing the
 *     journal: every group that must move, and every group written since
 *     the snapshot to a shard that is not its next owner, keeps an override
 *     to the shard that holds it.
 *  4. Moves, per source in batches under the locks: re-read the source, PUT
 *     the current copy to the owner, switch the routing to the owner once it
 *     confirmed, then DELETE the source copy. A failed DELETE leaves a marked
 *     stale copy, which the next round deletes.
 *
 * Every action succeeds or fails on its own; a shard that cannot be read or
 * written keeps its data and the round reports it. A group that cannot be
 * rendered for a move stays where it is, routed there, and is reported.
 */
import { type ShardClient } from '../upstream/shard-client.js';
import { shardKey } from '../groupingkey/grouping-key.js';
import { upstreamPath } from '../groupingkey/upstream-path.js';
import { type Ring } from '../ring/ring.js';
import { type RoutingTable } from '../proxy/push-target.js';
import { pushTimeOf } from '../upstream/group-facts.js';
import { planRound, type DeleteAction, type MergeAction, type MoveAction } from './plan.js';
import { groupToExposition, UnrenderableGroupError } from './exposition.js';
import { layerGroup } from './layer-group.js';
import { type GroupLocks } from './group-locks.js';
import { type RateLimiter } from './rate-limiter.js';
import { type CopyLedger } from './copy-ledger.js';
import { type WriteJournal } from './write-journal.js';
import { type UnmovableGroups } from './unmovable-groups.js';
import { type Clock } from '../time/clock.js';
import { batchSize, idOf, inBatches, readAll } from './shard-batches.js';

export interface RoundDeps {
  readonly client: ShardClient;
  readonly locks: GroupLocks;
  readonly limiter: RateLimiter;
  readonly ledger: CopyLedger;
  readonly journal: WriteJournal;
  readonly unmovable: UnmovableGroups;
  readonly concurrency: number;
  readonly timeoutMs: number;
  readonly clock: Clock;
  /** A stamp from the coordinator's sequence (shared with drains), taken as the round begins, before it reads. */
  readonly begin: () => number;
  /** Seconds a moved group had two scraped copies: from the owner's confirmation to the source's delete. */
  readonly onTwoCopies: (seconds: number) => void;
  /** Where pushes go now. */
  readonly routing: () => RoutingTable;
  /**
   * Makes `ring` the routing, with `overrides` (groupId → holder) for groups
   * not moved yet. `read`: the shards this round read (a member that leaves
   * unread leaves its groups behind, as a failed one does).
   */
  readonly publish: (ring: Ring, overrides: ReadonlyMap<string, string>, read: ReadonlySet<string>) => void;
  /** Drops one override: the group now lives on its ring owner (or nowhere). */
  readonly settle: (groupId: string) => void;
  /** The members a round should publish now: a round whose ring is no longer wanted stops before publishing it. */
  readonly wanted: () => readonly string[];
  /**
   * Several replicas: whether this round may write (the leader holds the
   * write fence, replicas/write-fence.ts). A round that may not and finds
   * work stops before it writes or publishes anything and says
   * `fenceNeeded`: its snapshot was read while followers wrote directly.
   */
  readonly mayWrite?: () => boolean;
}

export interface RoundResult {
  readonly groupsSeen: number;
  readonly moved: number;
  readonly merged: number;
  readonly deleted: number;
  /** Actions left alone because the data changed under us; a later round re-plans them. */
  readonly skipped: number;
  readonly failures: string[];
  /** Groups still held after the round, per target read in this round (unmovable ones included). */
  readonly remaining: ReadonlyMap<string, number>;
  /** Shards read in this round. */
  readonly read: readonly string[];
  /** Shards with an action that failed or was skipped: what the ledger knows about them still matters. */
  readonly unsettled: ReadonlySet<string>;
  /** The ledger's epoch when the round began (see CopyLedger.found). */
  readonly epoch: number;
  /** The stamp `begin()` gave the round when it began: its counts say nothing about a drain stamped later. */
  readonly stamp: number;
  /** The round found work but could not write (RoundDeps.mayWrite): acquire the fence and run it again. */
  readonly fenceNeeded?: boolean;
}


export async function runRound(deps: RoundDeps, next: Ring, sources: readonly string[]): Promise<RoundResult> {
  const failures: string[] = [];
  /** Shards with an action that failed or was skipped: what the ledger knows about them still matters. */
  const unsettled = new Set<string>();
  const fail = (shard: string, message: string): void => {
    failures.push(`${shard}: ${message}`);
    unsettled.add(shard);
  };
  const epoch = deps.ledger.epoch + 1;
  const stamp = deps.begin();
  deps.journal.open();
  let published = false;
  try {
    // Marks set after this, while the reads run, are newer than the snapshot: it cannot resolve them.
    const markSeq = deps.ledger.markSeq;
    const snapshot = await readAll(deps, sources, fail);
    const plan = planRound({
      routing: deps.routing(),
      next,
      snapshot: new Map([...snapshot].map(([t, r]) => [t, r.groups])),
      standing: (id, key, shard) => deps.ledger.standing(id, key, shard),
      lostHomes: (id, key) => deps.ledger.lostHomesOf(id, key),
      deleted: (id) => deps.ledger.deletedByClient(id),
      awayHome: (id) => deps.ledger.awayHome(id),
      lastHome: (id) => deps.ledger.lastHome(id),
      newestBase: (id) => deps.ledger.newestBase(id),
      wroteTo: (id, shard) => deps.journal.wroteTo(id, shard),
      unmovable: (id, holder, pushTime) => deps.unmovable.has(id, holder, pushTime),
    });
    const counts = { moved: 0, merged: 0, deleted: 0, skipped: 0 };
    const held = new Map([...snapshot].map(([t, r]) => [t, r.groups.length]));
    if (deps.mayWrite !== undefined && !deps.mayWrite()) {
      const ringChanges = next.members.join(',') !== deps.routing().ring.members.join(',');
      const work = plan.moves.length + plan.merges.length + plan.deletes.length + plan.orphaned.size > 0 || ringChanges || plan.undecided.size > 0;
      if (work) return { ...result(), fenceNeeded: true };
    }
    for (const shard of plan.undecided) unsettled.add(shard);
    // Copies older than content that is gone are stale: deleted below, and no POST waits behind them any more.
    for (const [id, shards] of plan.orphaned) for (const shard of shards) deps.ledger.orphaned(id, shard);
    const removed = (target: string): void => void held.set(target, (held.get(target) ?? 1) - 1);
    const sizes = new Map([...snapshot].map(([t, r]) => [t, batchSize(r.groups.length)]));
    // Marks on a shard that no longer holds the group are resolved.
    for (const [shard, contents] of snapshot) {
      for (const id of deps.ledger.markedOn(shard)) if (!contents.byId.has(id) && !deps.ledger.markedSince(id, markSeq)) deps.ledger.baseGone(id, shard);
      deps.unmovable.retain(shard, contents.byId);
    }

    // 2. No stale copy survives into the next ring.
    const before: Array<DeleteAction | MergeAction> = [...plan.merges, ...plan.deletes];
    await inBatches(deps, sizes, before, fail, async (action, current) => {
      if (current === undefined) return void deps.ledger.resolved(action.id, action.from);
      // Reasons learnt from acknowledged writes are re-checked now that no write of the group is in flight.
      const stillAway = action.kind !== 'delete' || action.whileAway === undefined || deps.ledger.awayHome(action.id) === action.whileAway;
      const stillDeleted = action.kind !== 'delete' || action.ghost !== true || deps.ledger.deletedByClient(action.id);
      const stillMarked = action.kind !== 'delete' || action.marked !== true || deps.ledger.mark(action.id, action.from) === 'stale';
      // A write routed to this copy since the round began: the plan may have seen its content before the
      // ledger learnt of it (a write applied, not yet answered). The next round decides.
      const unwritten = !deps.journal.wroteTo(action.id, action.from);
      if (pushTimeOf(current) !== action.pushTime || !unwritten || !stillAway || !stillDeleted || !stillMarked) {
        counts.skipped++;
        unsettled.add(action.from);
        return;
      }
      // A DELETE since the plan may have marked a base copy stale: then it is only deleted.
      if (action.kind === 'merge' && deps.ledger.mark(action.id, action.from) === 'base') {
        const top = (await deps.client.listGroups(action.into, deps.timeoutMs)).find((g) => idOf(g) === action.id);
        const merged = top === undefined ? current : layerGroup(current, top);
        await deps.client.push(action.into, 'PUT', upstreamPath(action.key), groupToExposition(merged), deps.timeoutMs);
        deps.ledger.movedTo(action.id, action.into);
        counts.merged++;
      }
      await deps.client.delete(action.from, upstreamPath(action.key), deps.timeoutMs);
      deps.ledger.resolved(action.id, action.from);
      counts.deleted++;
      removed(action.from);
    });

    // 3. Publish: journal closed and ring published in one synchronous step.
    const recent = deps.journal.close();
    published = true;
    const current = deps.routing().ring.members;
    const unread = current.filter((m) => !snapshot.has(m));
    // A joining member whose stale or base copies could not all be removed would be scraped with them.
    const joinerUnclean = next.members.some((m) => !current.includes(m) && unsettled.has(m));
    if (deps.wanted().join(',') !== next.members.join(',') || joinerUnclean || (unread.length > 0 && current.join(',') !== next.members.join(','))) {
      // Membership changed while this round read and cleaned, or a member whose groups the new ring would
      // move could not be read (its groups would be routed away with no override): the next round re-plans.
      counts.skipped += plan.moves.length;
      for (const shard of snapshot.keys()) unsettled.add(shard);
      return result();
    }
    const overrides = new Map<string, string>(plan.pinned);
    const moves: MoveAction[] = [];
    const planned = new Set<string>(plan.pinned.keys());
    for (const move of plan.moves) {
      planned.add(move.id);
      // A write since the snapshot went to the push target: that copy is the group now.
      const holder = recent.get(move.id)?.target ?? move.from;
      if (holder === move.to) continue;
      overrides.set(move.id, holder);
      moves.push(holder === move.from ? move : { ...move, from: holder, pushTime: undefined });
    }
    for (const [id, entry] of recent) {
      if (planned.has(id)) continue;
      const owner = next.owner(shardKey(entry.key));
      if (owner === undefined || owner === entry.target) continue;
      overrides.set(id, entry.target);
      moves.push({ kind: 'move', id, key: entry.key, from: entry.target, to: owner, pushTime: undefined });
    }
    deps.publish(next, overrides, new Set(snapshot.keys()));

    // 4. Moves.
    await inBatches(deps, sizes, moves, fail, async (move, current) => {
      if (current === undefined) return deps.settle(move.id);
      if (deps.ledger.mark(move.id, move.from) === 'stale' || deps.ledger.deletedByClient(move.id)) {
        // A DELETE acknowledged since the plan could not reach this copy: it is not the group any more.
        deps.settle(move.id);
        await deps.client.delete(move.from, upstreamPath(move.key), deps.timeoutMs);
        deps.ledger.resolved(move.id, move.from);
        return;
      }
      let text: string;
      try {
        text = groupToExposition(current);
      } catch (err) {
        if (!(err instanceof UnrenderableGroupError)) throw err;
        deps.unmovable.add(move.id, move.key, move.from, pushTimeOf(current), err.message);
        throw err;
      }
      await deps.limiter.take();
      if (!deps.wanted().includes(move.to)) {
        // The owner left meanwhile: the group stays where it is, routed there, until the next round.
        counts.skipped++;
        unsettled.add(move.from);
        return;
      }
      if (deps.ledger.mark(move.id, move.to) === 'base') {
        // A base copy there is not merged yet (its merge failed, or its shard was not read): the copy would overwrite it.
        counts.skipped++;
        unsettled.add(move.to);
        return;
      }
      const path = upstreamPath(move.key);
      try {
        await deps.client.push(move.to, 'PUT', path, text, deps.timeoutMs);
      } catch (err) {
        // The copy may still land (a timeout) or leave an empty failed group: it is not the group.
        deps.ledger.deleteMissed(move.id, move.to);
        await deps.client.delete(move.to, path, deps.timeoutMs).then(() => deps.ledger.resolved(move.id, move.to), () => undefined);
        throw err;
      }
      if (!deps.wanted().includes(move.to)) {
        // The owner left while the copy was on its way: the source keeps the group (and its routing),
        // and the copy goes before the lock is released (the shard may still be scraped).
        counts.skipped++;
        unsettled.add(move.from);
        deps.ledger.deleteMissed(move.id, move.to);
        await deps.client.delete(move.to, path, deps.timeoutMs);
        deps.ledger.resolved(move.id, move.to);
        return;
      }
      deps.ledger.movedTo(move.id, move.to);
      deps.settle(move.id);
      counts.moved++;
      removed(move.from);
      const copied = deps.clock.now();
      try {
        await deps.client.delete(move.from, path, deps.timeoutMs);
        deps.onTwoCopies((deps.clock.now() - copied) / 1000);
      } catch (err) {
        deps.ledger.deleteMissed(move.id, move.from);
        throw err;
      }
    });

    return result();

    function result(): RoundResult {
      return {
        groupsSeen: [...snapshot.values()].reduce((n, r) => n + r.groups.length, 0),
        ...counts,
        failures,
        remaining: held,
        read: [...snapshot.keys()],
        epoch,
        stamp,
        unsettled,
      };
    }
  } finally {
    if (!published) deps.journal.close();
  }
}

