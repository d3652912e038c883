/**
 * The rebalancer's decision, pure: given who owns what (the ring) and what
 * every reachable shard holds, which group copies to move to their owner and
 * which stray copies to delete. No I/O; the executor carries the plan out.
 *
 * Contract:
 * - Groups are identified by groupId: `{job="a"}` and `{job="a",instance=""}`
 *   are two groups (they share a shard key, so the same owner).
 * - Only copies on a shard that is not the group's owner ("strays") produce
 *   actions. A group whose owner is undefined (empty ring) or absent from
 *   the snapshot (unreachable: its holdings are unknown) produces none.
 * - Freshness is `push_time_seconds` (a missing one counts as oldest). A
 *   stray never overwrites an owner copy at least as fresh: ties go to the
 *   owner. Of several strays of one group only the freshest is moved (equal
 *   times: the first `from` in sort order); the rest are deleted.
 * - Ordering (deterministic for a given input): groups in groupId order;
 *   within a group the move first, then the deletes, freshest first. Every
 *   `after` names an action earlier in the list; `id` is the position.
 *
 * What the executor must honour:
 * - `move`: PUT `group` (rendered by groupToExposition) to `to` at
 *   upstreamPath(key), confirm it, and only then DELETE it from `from`. If
 *   the copy fails, nothing is deleted.
 * - `delete-stray` with `after`: run only once the move with that id has
 *   been confirmed (copied to `to`); if that move fails, skip it.
 * - `delete-stray` without `after`: `to` already holds a copy at least as
 *   fresh, so it may run at once.
 * - DELETE on a pushgateway is unconditional: a push that reaches `from`
 *   after the snapshot would be lost. Re-read the copy's push time just
 *   before deleting and skip the delete if it is no longer `pushTime`.
 *
 * Known limits, inherent to push_time_seconds:
 * - It is each pushgateway's own clock; skew between shards skews the choice.
 * - A copy written by a move gets the time of the move, not of the original
 *   push, so in a later round it beats strays holding data pushed between
 *   the original push and the move.
 * - Two groups sharing a shard key (`{job="a"}`, `{job="a",instance=""}`)
 *   expose identical series; the owner rejects the second one's PUT (400)
 *   and keeps an empty group for it, which must be deleted (see
 *   PUSHGATEWAY.md). The plan moves both; the executor sees the 400.
 */
import { type GroupingKey, groupId, shardKey } from '../groupingkey/grouping-key.js';
import { type Ring } from '../ring/ring.js';
import { type ApiGroup } from '../upstream/metrics-api.js';
import { pushTimeOf, readGroupingKey } from '../upstream/group-facts.js';

/** What every reachable shard holds: target -> its groups from /api/v1/metrics. */
export type Snapshot = ReadonlyMap<string, readonly ApiGroup[]>;

/** Who owns a shard key; a Ring is one. */
export type Owners = Pick<Ring, 'owner'>;

/** Copy `group` from `from` to its owner `to`, then delete it from `from`. */
export interface MoveAction {
  readonly kind: 'move';
  /** Position in the plan; named by the `after` of deletes that wait for this move. */
  readonly id: number;
  readonly key: GroupingKey;
  readonly from: string;
  readonly to: string;
  /** The copy as read from `from`. */
  readonly group: ApiGroup;
  /** push_time_seconds of the copy on `from` when the snapshot was taken. */
  readonly pushTime: number | undefined;
}

/** Delete the copy on `from`; the owner `to` holds (or will hold) a copy at least as fresh. */
export interface DeleteStrayAction {
  readonly kind: 'delete-stray';
  readonly id: number;
  readonly key: GroupingKey;
  readonly from: string;
  readonly to: string;
  /** push_time_seconds of the copy on `from` when the snapshot was taken. */
  readonly pushTime: number | undefined;
  /** Id of the move that must be confirmed before this delete; absent when none. */
  readonly after?: number;
}

export type RebalanceAction = MoveAction | DeleteStrayAction;

interface Copy {
  readonly target: string;
  readonly group: ApiGroup;
  readonly pushTime: number | undefined;
}

interface Holding {
  readonly key: GroupingKey;
  readonly copies: Map<string, Copy>;
}

export function planRebalance(owners: Owners, snapshot: Snapshot): RebalanceAction[] {
  const actions: RebalanceAction[] = [];
  const holdings = collectHoldings(snapshot);
  for (const id of [...holdings.keys()].sort(compareStrings)) {
    const holding = holdings.get(id);
    if (holding === undefined) continue;
    const owner = owners.owner(shardKey(holding.key));
    if (owner === undefined || !snapshot.has(owner)) continue;
    const ownerCopy = holding.copies.get(owner);
    const strays = [...holding.copies.values()].filter((c) => c.target !== owner).sort(freshestFirst);
    const freshest = strays[0];
    if (freshest === undefined) continue;
    let after: number | undefined;
    if (ownerCopy === undefined || freshness(freshest) > freshness(ownerCopy)) {
      after = actions.length;
      actions.push({ kind: 'move', id: after, key: holding.key, from: freshest.target, to: owner, group: freshest.group, pushTime: freshest.pushTime });
      strays.shift();
    }
    for (const stray of strays) {
      const del: DeleteStrayAction = { kind: 'delete-stray', id: actions.length, key: holding.key, from: stray.target, to: owner, pushTime: stray.pushTime };
      actions.push(after === undefined ? del : { ...del, after });
    }
  }
  return actions;
}

export interface PlanSummary {
  readonly moves: number;
  readonly deleteStrays: number;
  /** Deletes that wait for a move (same group stray on several shards). */
  readonly waitingOnMove: number;
}

/** Counts for one log line per plan. */
export function summarizePlan(actions: readonly RebalanceAction[]): PlanSummary {
  let moves = 0;
  let deleteStrays = 0;
  let waitingOnMove = 0;
  for (const a of actions) {
    if (a.kind === 'move') {
      moves++;
    } else {
      deleteStrays++;
      if (a.after !== undefined) waitingOnMove++;
    }
  }
  return { moves, deleteStrays, waitingOnMove };
}

/** Groups by groupId, each with at most one copy per target (the freshest, should a target list one twice). */
function collectHoldings(snapshot: Snapshot): Map<string, Holding> {
  const holdings = new Map<string, Holding>();
  for (const [target, groups] of snapshot) {
    for (const group of groups) {
      // Pushgateway always lists a job; anything else is not a group we can address.
      const key = readGroupingKey(group);
      if (key === undefined) continue;
      const id = groupId(key);
      let holding = holdings.get(id);
      if (holding === undefined) {
        holding = { key, copies: new Map() };
        holdings.set(id, holding);
      }
      const copy: Copy = { target, group, pushTime: pushTimeOf(group) };
      const seen = holding.copies.get(target);
      if (seen === undefined || freshness(copy) > freshness(seen)) holding.copies.set(target, copy);
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
  return compareStrings(a.target, b.target);
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
