/**
 * The rebalancer's decision, pure: given where pushes go now (the routing),
 * the next ring, what every reachable shard holds, and what the ledger knows
 * about copies, which copies to delete, which to merge and which group to
 * move to its next owner. No I/O; round.ts carries the plan out.
 *
 * Authority (docs/rebalancing.md): the copy on the group's *push target*
 * (its override holder, else its ring owner) is the group, because every
 * acknowledged write since the routing last pointed there went there —
 * unless the group's lost home is back and nothing was acknowledged since
 * it failed: then the home's copy is the group and the target's a leftover.
 * Push times decide nothing while such a copy exists. Every other copy is:
 * - `base` in the ledger: merged under the target's copy (POSTs since a failover);
 * - anything else: stale, deleted.
 * When the target holds no copy, the group lives only in copies elsewhere:
 * those the ledger marks stale are deleted; of the rest, the freshest by
 * push time is adopted (moved to the next owner), the others deleted.
 *
 * Contract:
 * - Groups are identified by groupId (`{job="a"}` and `{job="a",instance=""}`
 *   are two groups that share a shard key, so an owner).
 * - A group whose push target is undefined (empty ring) or unread (absent
 *   from the snapshot: its holdings are unknown) produces no action.
 * - Deterministic for a given input: groups in groupId order, copies by
 *   shard name.
 */
import { type GroupingKey, groupId, shardKey } from '../groupingkey/grouping-key.js';
import { type Ring } from '../ring/ring.js';
import { type ApiGroup } from '../upstream/metrics-api.js';
import { pushTimeOf, readGroupingKey } from '../upstream/group-facts.js';
import { pushTarget, type RoutingTable } from '../proxy/push-target.js';
import { type CopyStanding } from './copy-ledger.js';

/** What every reachable shard holds: target → its groups from /api/v1/metrics. */
export type Snapshot = ReadonlyMap<string, readonly ApiGroup[]>;

interface ActionBase {
  readonly id: string;
  readonly key: GroupingKey;
  /** The shard whose copy the action reads (and deletes, except for a merge's target). */
  readonly from: string;
  /** push_time_seconds of the copy on `from` in the snapshot. */
  readonly pushTime: number | undefined;
}

/** Delete the copy on `from`, if it is still the one read. */
export interface DeleteAction extends ActionBase {
  readonly kind: 'delete';
  /** A leftover while the group's home is away: deleted only if still nothing was written since (re-checked under the lock). */
  readonly whileAway?: string;
  /** A copy of a group its client deleted: deleted only if no write came since (re-checked under the lock). */
  readonly ghost?: boolean;
  /** Deleted because the ledger marks it stale: only if it still does (re-checked under the lock). */
  readonly marked?: boolean;
}

/** Layer the copy on `into` (the group's holder: the push target, or its returned home) over the copy on `from`, write it to `into`, delete `from`. */
export interface MergeAction extends ActionBase {
  readonly kind: 'merge';
  readonly into: string;
}

/** Copy the group from `from` (its holder) to `to` (its next owner), then delete it from `from`. */
export interface MoveAction extends ActionBase {
  readonly kind: 'move';
  readonly to: string;
}

export type RebalanceAction = DeleteAction | MergeAction | MoveAction;

export interface RoundPlan {
  /** Run before the next ring is published: no stale copy may be scraped once it is. */
  readonly deletes: readonly DeleteAction[];
  readonly merges: readonly MergeAction[];
  /** Run after it is published, with an override routing each group to `from` until it moved. */
  readonly moves: readonly MoveAction[];
  /** Groups that stay where they are although they are not on their next owner (unmovable): groupId → holder. */
  readonly pinned: ReadonlyMap<string, string>;
  /**
   * Groups whose copies are orphans: the shard the group's content was last
   * put on was read without it. groupId → the shards holding them; the round
   * marks them stale in the ledger, and the plan deletes them.
   */
  readonly orphaned: ReadonlyMap<string, readonly string[]>;
  /** Shards holding copies of groups the plan could not decide (their target was not read). */
  readonly undecided: ReadonlySet<string>;
}

export interface PlanInput {
  readonly routing: RoutingTable;
  readonly next: Pick<Ring, 'owner'>;
  readonly snapshot: Snapshot;
  readonly standing: (id: string, key: GroupingKey, shard: string) => CopyStanding;
  /** Whether a client deleted the group last (CopyLedger.deletedByClient): no copy of it is adopted. */
  readonly deleted?: (id: string) => boolean;
  /** Where the group's last acknowledged content was put (CopyLedger.lastHome). */
  readonly lastHome?: (id: string) => string | undefined;
  /** The lost home holding the group's content, nothing written since (CopyLedger.awayHome). */
  readonly awayHome?: (id: string) => string | undefined;
  /** Lost shards that may hold the group's last acknowledged content (CopyLedger.lostHomesOf). */
  readonly lostHomes?: (id: string, key: GroupingKey) => readonly string[];
  /** Whether a write of the group was routed to the shard since the round began (WriteJournal.wroteTo). */
  readonly wroteTo?: (id: string, shard: string) => boolean;
  /** The shard holding the group's newest base copy (CopyLedger.newestBase): only it is merged this round. */
  readonly newestBase?: (id: string) => string | undefined;
  /** Whether a move of this copy already failed because it cannot be rendered (skip it). */
  readonly unmovable?: (id: string, holder: string, pushTime: number | undefined) => boolean;
}

interface Copy {
  readonly shard: string;
  readonly pushTime: number | undefined;
}

export function planRound(input: PlanInput): RoundPlan {
  const deletes: DeleteAction[] = [];
  const merges: MergeAction[] = [];
  const moves: MoveAction[] = [];
  const pinned = new Map<string, string>();
  const orphaned = new Map<string, string[]>();
  const undecided = new Set<string>();
  const holdings = collectHoldings(input.snapshot);
  for (const id of [...holdings.keys()].sort(compareStrings)) {
    const holding = holdings.get(id);
    if (holding === undefined) continue;
    const { key, copies } = holding;
    // With no push target (the ring was empty), the group is where its last write went, if that was read;
    // else it goes where the next ring puts it.
    const last = input.lastHome?.(id);
    const target = pushTarget(input.routing, key, id) ?? (last !== undefined && input.snapshot.has(last) ? last : input.next.owner(shardKey(key)));
    if (target === undefined || !input.snapshot.has(target)) {
      for (const c of copies.values()) undecided.add(c.shard);
      continue;
    }
    const base = (c: Copy): ActionBase => ({ id, key, from: c.shard, pushTime: c.pushTime });
    // The shard the group's content was last put on was read without it: it was deleted there (a DELETE in
    // doubt that landed) or lost with that pushgateway's data. Every other copy is older than what was there:
    // a leftover, never adopted or merged (it would bring back content a DELETE removed). Not if a write went
    // there since the round began: the read may predate it.
    if (last !== undefined && input.snapshot.has(last) && !copies.has(last) && input.wroteTo?.(id, last) !== true) {
      orphaned.set(id, [...copies.keys()]);
      for (const c of copies.values()) deletes.push({ kind: 'delete', ...base(c), marked: true });
      continue;
    }
    const standing = (c: Copy): ReturnType<PlanInput['standing']> => input.standing(id, key, c.shard);
    // The group's lost home, when nothing was acknowledged since it failed, holds the group.
    // The group's last home, when the routing left it without a move and nothing was written since.
    const lastHome = input.awayHome?.(id);
    const knownHome = lastHome !== undefined && lastHome !== target ? lastHome : undefined;
    const home =
      (knownHome !== undefined ? copies.get(knownHome) : undefined) ??
      [...copies.values()].filter((c) => c.shard !== target && standing(c) === 'home').sort(freshestFirst)[0];
    // A write went to the target since the round began while the ledger still had the group's home elsewhere:
    // once it is answered, that home's copy is a base or stale, which the plan cannot know yet. Next round.
    if (home !== undefined && home.shard !== target && input.wroteTo?.(id, target) === true) {
      for (const c of copies.values()) undecided.add(c.shard);
      continue;
    }
    // A copy on the target that the ledger knows is stale (it returned with it) is not the group either.
    const onTarget = copies.get(target);
    const ghosts = input.deleted?.(id) === true;
    const away = ghosts || home !== undefined ? undefined : knownHome;
    if (away !== undefined && !input.snapshot.has(away)) {
      // Its home is away with the group's content and nothing was written since: every copy here is a leftover,
      // and must go before a POST lands on one of them.
      for (const c of copies.values()) {
        // A base copy waits for the home: the POSTed families are laid over it when it returns.
        if (standing(c) === 'base') undecided.add(c.shard);
        else deletes.push({ kind: 'delete', ...base(c), whileAway: away });
      }
      continue;
    }
    const newest = input.newestBase?.(id);
    // A write went to the target since the round began and its copy is not in the (older) snapshot: that copy
    // is the group, whatever the snapshot shows elsewhere (merges re-read it under the lock).
    const writtenTarget: Copy | undefined = onTarget === undefined && input.wroteTo?.(id, target) === true ? { shard: target, pushTime: undefined } : undefined;
    // Nothing says where the group was last put, and the shard the ring put it on before a loss is away:
    // a copy on the target that nobody wrote since (an old persistence file, a stray) is not the group.
    // It waits for the lost home (a write to the target makes the ledger know better).
    if (!ghosts && home === undefined && onTarget !== undefined && standing(onTarget) === undefined && input.lastHome?.(id) === undefined && input.wroteTo?.(id, target) !== true) {
      if ((input.lostHomes?.(id, key) ?? []).some((h) => h !== target && !input.snapshot.has(h))) {
        for (const c of copies.values()) undecided.add(c.shard);
        continue;
      }
    }
    let holder: Copy | undefined = ghosts ? undefined : (home ?? (onTarget !== undefined && standing(onTarget) !== 'stale' ? onTarget : writtenTarget));
    if (holder !== undefined) {
      for (const c of copies.values()) {
        if (c === holder) continue;
        if (standing(c) === 'base') {
          // Bases are layered newest first: an older one waits for the newer to be merged (a later round).
          if (newest !== undefined && newest !== c.shard) undecided.add(c.shard);
          else merges.push({ kind: 'merge', ...base(c), into: holder.shard });
        }
        else deletes.push({ kind: 'delete', ...base(c), ...(c.shard === target && home === undefined ? { marked: true } : {}) });
      }
    } else {
      const live: Copy[] = [];
      for (const c of copies.values()) {
        if (ghosts) deletes.push({ kind: 'delete', ...base(c), ghost: true });
        else if (standing(c) === 'stale') deletes.push({ kind: 'delete', ...base(c), marked: true });
        else live.push(c);
      }
      live.sort(freshestFirst);
      // Its lost home is still away: it holds the group, so no stray is adopted meanwhile.
      if ((input.lostHomes?.(id, key) ?? []).some((h) => !input.snapshot.has(h))) {
        for (const c of live) undecided.add(c.shard);
        continue;
      }
      holder = live[0];
      for (const c of live.slice(1)) deletes.push({ kind: 'delete', ...base(c) });
    }
    if (holder === undefined) continue;
    const owner = input.next.owner(shardKey(key)) ?? target;
    if (holder.shard === owner) continue;
    if (input.unmovable?.(id, holder.shard, holder.pushTime) === true) {
      pinned.set(id, holder.shard);
      continue;
    }
    moves.push({ kind: 'move', ...base(holder), to: owner });
  }
  return { deletes, merges, moves, pinned, orphaned, undecided };
}

/** Groups by groupId, each with at most one copy per shard (the freshest, should a shard list one twice). */
function collectHoldings(snapshot: Snapshot): Map<string, { key: GroupingKey; copies: Map<string, Copy> }> {
  const holdings = new Map<string, { key: GroupingKey; copies: Map<string, Copy> }>();
  for (const shard of [...snapshot.keys()].sort(compareStrings)) {
    for (const group of snapshot.get(shard) ?? []) {
      // Pushgateway always lists a job; anything else is not a group we can address.
      const key = readGroupingKey(group);
      if (key === undefined) continue;
      const id = groupId(key);
      let holding = holdings.get(id);
      if (holding === undefined) {
        holding = { key, copies: new Map() };
        holdings.set(id, holding);
      }
      const copy: Copy = { shard, pushTime: pushTimeOf(group) };
      const seen = holding.copies.get(shard);
      if (seen === undefined || freshness(copy) > freshness(seen)) holding.copies.set(shard, copy);
    }
  }
  return holdings;
}

/** Comparable freshness: larger is fresher; a copy without a push time is the oldest. */
function freshness(copy: Copy): number {
  return copy.pushTime ?? -Infinity;
}

function freshestFirst(a: Copy, b: Copy): number {
  const d = freshness(b) - freshness(a);
  // -Infinity - -Infinity is NaN: equal.
  if (d > 0) return 1;
  if (d < 0) return -1;
  return compareStrings(a.shard, b.shard);
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
