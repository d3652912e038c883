/**
 * The invariants, checked against the fleet and the system under test.
 *
 * - I1 No lost write (end): each group's content on its home is a state the
 *   reference allows; a group the reference says is deleted exists nowhere.
 * - I2 No hang: every client request settles within REQUEST_BOUND_MS of
 *   virtual time (checked after every event); at the end no lock is held
 *   and no request is pending.
 * - I3 One home: at the end every group is on exactly one configured shard,
 *   its ring owner. During the run, two copies on shards that are both
 *   scraped (in discovery) are allowed only while the rebalancer holds the
 *   group's exclusive lock, or within a grace period (see Grace).
 * - I4 Progress (end): the fleet settles (see simulation.ts), a draining
 *   shard whose groups can move ends `drained` and out of discovery; and,
 *   at each drain, a drain never leaves the ring empty.
 */
import { type GroupingKey } from '../../src/groupingkey/grouping-key.js';
import { describe } from './group-content.js';
import { type ReferenceModel } from './reference-model.js';
import { type SimPushgateway } from './sim-pushgateway.js';
import { type SystemUnderTest } from './system-under-test.js';

export type Invariant = 'I1' | 'I2' | 'I3' | 'I4';

/** Each check has a stable name, so a run can set aside one known defect to look for others. */
export const CHECKS = [
  'lost-write',
  'resurrected',
  'request-hang',
  'locks-held',
  'plan-unfinished',
  'two-scraped-copies',
  'misplaced',
  'drain-unfinished',
  'drained-in-discovery',
  'drain-empties-ring',
  'empty-reload',
  'unsettled',
  'bulk-deleted-newer-push',
  'deposed-leader-wrote',
  'direct-write-under-fence',
] as const;
export type Check = (typeof CHECKS)[number];

export function isCheck(name: string): name is Check {
  return (CHECKS as readonly string[]).includes(name);
}

export interface Violation {
  readonly invariant: Invariant;
  readonly check: Check;
  readonly group?: string;
  readonly message: string;
}

export interface PendingRequest {
  readonly group: GroupingKey;
  readonly what: string;
  readonly since: number;
}

/** What the checks read; simulation.ts provides it. */
export interface FleetView {
  readonly sut: SystemUnderTest;
  readonly ref: ReferenceModel;
  readonly shards: ReadonlyMap<string, SimPushgateway>;
  readonly pending: ReadonlySet<PendingRequest>;
  now(): number;
  /** Shards in the harness's current config. */
  configured(): readonly string[];
  /** Changes whenever a store or the config changed. */
  version(): number;
  /** A two-copy state of `id` on `holders` is excused (planted stray, returning shard, failed rebalancer call). */
  graced(id: string, holders: readonly string[]): boolean;
}

/** Longest time two scraped copies of one group coexisted, and which group; `seen` skips unchanged fleets. */
export interface TwoCopyStats {
  longestMs: number;
  group: string;
  seen: string;
  twice: boolean;
}

export function checkRequestsSettle(v: FleetView, boundMs: number): Violation[] {
  for (const p of v.pending) {
    if (v.now() - p.since > boundMs) return [{ invariant: 'I2', check: 'request-hang', group: label(p.group), message: `${p.what} pending for ${((v.now() - p.since) / 1000).toFixed(1)} s (bound ${boundMs / 1000} s)` }];
  }
  return [];
}

/** I3 during the run; `open` tracks since when each group has had two scraped copies. */
export function checkScrapedCopies(v: FleetView, open: Map<string, number>, stats: TwoCopyStats): Violation[] {
  // Discovery lists ring members and draining shards only: a cheap superset to look at first.
  // Unless a store or that superset changed, or a pair is open, nothing can have gone wrong.
  const members = v.sut.publishedMembers();
  const candidates = v.configured().filter((t) => members.includes(t) || v.sut.drainState(t) !== null);
  const version = `${v.version()}|${candidates.join(',')}`;
  if (version === stats.seen && !stats.twice && open.size === 0) return [];
  stats.seen = version;
  const holders = new Map<string, string[]>();
  let twice = false;
  for (const target of candidates) {
    for (const id of v.shards.get(target)?.groups.keys() ?? []) {
      const on = holders.get(id);
      if (on === undefined) holders.set(id, [target]);
      else twice ||= on.push(target) > 1;
    }
  }
  stats.twice = twice;
  if (twice || open.size > 0) {
    const discovered = new Set(v.sut.discovery());
    for (const [id, on] of holders) holders.set(id, on.filter((t) => discovered.has(t)));
  }
  for (const [id, since] of open) {
    if ((holders.get(id)?.length ?? 0) < 2) open.delete(id);
    else if (v.now() - since > stats.longestMs) Object.assign(stats, { longestMs: v.now() - since, group: printable(id) });
  }
  const found: Violation[] = [];
  for (const [id, on] of holders) {
    if (on.length < 2) continue;
    if (!open.has(id)) open.set(id, v.now());
    if (v.sut.moving(id) || v.graced(id, on)) continue;
    found.push({ invariant: 'I3', check: 'two-scraped-copies', group: printable(id), message: `two scraped copies, on ${on.join(' and ')}, and no move in progress` });
  }
  return found;
}

/** The end state, after healing: I2 leftovers, I1, I3. */
export function checkEnd(v: FleetView): Violation[] {
  const { sut } = v;
  const found: Violation[] = [];
  if (v.pending.size > 0) found.push({ invariant: 'I2', check: 'request-hang', message: `${v.pending.size} client request(s) never settled` });
  if (sut.locksHeld() > 0) found.push({ invariant: 'I2', check: 'locks-held', message: `GroupLocks still holds ${sut.locksHeld()} group(s)` });
  const configured = v.configured();
  const ids = new Set(v.ref.ids());
  for (const t of configured) for (const id of v.shards.get(t)?.groups.keys() ?? []) ids.add(id);
  for (const id of [...ids].sort()) {
    const on = configured.filter((t) => v.shards.get(t)?.groups.has(id));
    const key = v.ref.keyOf(id);
    if (v.ref.deleted(id)) {
      if (on.length > 0) found.push({ invariant: 'I1', check: 'resurrected', group: printable(id), message: `deleted by its client, yet present on ${on.join(', ')}` });
      continue;
    }
    const home = key === undefined ? undefined : sut.ringOwner(key);
    const content = home === undefined ? undefined : v.shards.get(home)?.groups.get(id)?.content;
    if (!v.ref.allows(id, content)) {
      const allowed = v.ref.possible(id).map(describe).join(' | ');
      found.push({ invariant: 'I1', check: 'lost-write', group: printable(id), message: `home ${home ?? '(none)'} holds ${describe(content)}; allowed: ${allowed}; copies on ${on.join(', ') || 'no shard'}` });
    }
    if (on.length > 1 || (on.length === 1 && on[0] !== home)) {
      found.push({ invariant: 'I3', check: 'misplaced', group: printable(id), message: `copies on ${on.join(', ')}; home ${home ?? '(none)'}` });
    }
  }
  return found;
}

/** I4 at the end: drains complete and drained shards leave discovery. */
export function checkDrains(v: FleetView): Violation[] {
  const { sut } = v;
  const active = v.configured().filter((t) => sut.drainState(t) === null);
  for (const t of v.configured()) {
    const state = sut.drainState(t);
    if (state === null || active.length === 0) continue;
    if (state !== 'drained') return [{ invariant: 'I4', check: 'drain-unfinished', message: `drain of ${t} did not finish (state ${state}, ${v.shards.get(t)?.groups.size ?? 0} group(s) left)` }];
    if ((v.shards.get(t)?.groups.size ?? 0) === 0 && sut.discovery().includes(t)) return [{ invariant: 'I4', check: 'drained-in-discovery', message: `${t} is drained and empty, yet still in discovery` }];
  }
  return [];
}

export function label(key: GroupingKey): string {
  return `{${Object.entries(key)
    .map(([n, val]) => `${n}=${JSON.stringify(val)}`)
    .join(',')}}`;
}

/** A groupId (NUL-separated, length-prefixed) as `{name="value",...}`. */
export function printable(id: string): string {
  const parts = id.split('\u0000');
  const pairs: string[] = [];
  for (let i = 0; i + 2 < parts.length; i += 3) pairs.push(`${parts[i] ?? ''}=${JSON.stringify(parts[i + 2] ?? '')}`);
  return `{${pairs.join(',')}}`;
}
