/**
 * What this shardgate knows about copies of a group on shards other than
 * the one its pushes go to, learnt from the writes it routed. Push times
 * cannot tell these apart: a paused pushgateway can apply a write after its
 * caller gave up, stamping an old content with a new push time.
 *
 * - `stale`: a copy there is older than the group's current content (a PUT
 *   or DELETE was acknowledged elsewhere since, or a DELETE could not reach
 *   it). The rebalancer deletes it, whatever its push time.
 * - `base`: the shard failed while it was the group's home, and since then
 *   only POSTs were acknowledged (on the new home). Its copy holds the
 *   families those POSTs did not replace: the rebalancer layers the new
 *   home's families over it (POST semantics) instead of dropping it.
 *
 * A shard that left the ring while unreachable is a *lost home*: every
 * acknowledged write of a group it owned in the last ring that had it marks
 * its copy. Marks are cleared when the copy is resolved (deleted, merged,
 * absent when read) or a write of the group lands on that shard.
 *
 * Contract: in memory, per process. A restarted shardgate starts with an
 * empty ledger and falls back to "the copy where pushes go wins". With
 * several replicas the leader publishes `snapshot()` with its ring, and a
 * replica that takes over `restore()`s it: everything but the last homes of
 * groups without marks, which follow every push (the ring rule stands in).
 */
import { type GroupingKey, shardKey } from '../groupingkey/grouping-key.js';
import { type Ring } from '../ring/ring.js';
import { buildRing } from '../ring/rendezvous-ring.js';

export type CopyMark = 'stale' | 'base';

/** Deleted groups remembered (about 100 bytes each); older deletes fall back to "adopt the freshest stray". */
const TOMBSTONES = 100_000;
/** Tombstones a snapshot carries: the most recent deletes. */
const PUBLISHED_TOMBSTONES = 10_000;

/** What a leader publishes of its ledger (JSON-safe). */
export interface LedgerSnapshot {
  readonly epoch: number;
  readonly markSeq: number;
  readonly marks: ReadonlyArray<readonly [string, ReadonlyArray<readonly [string, CopyMark]>, number]>;
  readonly lostHomes: ReadonlyArray<readonly [string, readonly string[], number]>;
  readonly lostGroups: ReadonlyArray<readonly [string, string, number]>;
  readonly deleted: readonly string[];
  readonly cleared: ReadonlyArray<readonly [string, string]>;
  /** Last homes of the groups with marked copies (where their newest content is): the rest follow the ring. */
  readonly lastHomes: ReadonlyArray<readonly [string, string]>;
}

/**
 * What a round needs to know about one copy: its mark, or `home` when it
 * sits on the group's lost home and nothing was acknowledged for the group
 * since: then it holds the group's last acknowledged content, and a copy
 * where pushes go now can only be a leftover.
 */
export type CopyStanding = CopyMark | 'home' | undefined;

export class CopyLedger {
  /** groupId → shard → mark. */
  readonly #marks = new Map<string, Map<string, CopyMark>>();
  /** Shards that left the ring unreachable → the last ring that had them, and when (epoch). */
  readonly #lostHomes = new Map<string, { readonly ring: Ring; readonly epoch: number }>();
  /** Groups routed to a lost shard by an override (not by the ring) → that shard, and when. */
  readonly #lostGroups = new Map<string, { readonly shard: string; readonly epoch: number }>();
  /**
   * Where each group's last acknowledged content was put by this process
   * (a client write or a move). Precise where the ring rule is a guess: a
   * group lost on one shard is not at home on the next one that fails.
   */
  readonly #lastHome = new Map<string, string>();
  /**
   * Groups whose last acknowledged write was a DELETE (insertion order, the
   * oldest forgotten first past TOMBSTONES): a copy found later is a ghost
   * (a missed fan-out, an old persistence file), never adopted.
   */
  readonly #deleted = new Set<string>();
  #epoch = 0;
  /** Bumped by every change a snapshot would show. */
  #version = 0;
  /** When each marked group was last marked (#markSeq); dropped with its marks. */
  readonly #markedAt = new Map<string, number>();
  #markSeq = 0;
  /** Groups whose copy on a failover target was deleted before a POST → that target, until the next acknowledged write. */
  readonly #cleared = new Map<string, string>();

  /** Changes whenever `snapshot()` would: the coordinator republishes then. */
  get version(): number {
    return this.#version;
  }

  snapshot(): LedgerSnapshot {
    return {
      epoch: this.#epoch,
      markSeq: this.#markSeq,
      marks: [...this.#marks].map(([id, m]) => [id, [...m], this.#markedAt.get(id) ?? 0] as const),
      lostHomes: [...this.#lostHomes].map(([shard, l]) => [shard, l.ring.members, l.epoch] as const),
      lostGroups: [...this.#lostGroups].map(([id, g]) => [id, g.shard, g.epoch] as const),
      deleted: [...this.#deleted].slice(-PUBLISHED_TOMBSTONES),
      cleared: [...this.#cleared],
      lastHomes: [...this.#marks.keys(), ...this.#lostGroups.keys()].flatMap((id) => {
        const home = this.#lastHome.get(id);
        return home === undefined ? [] : [[id, home] as const];
      }),
    };
  }

  /** Replaces everything with a published snapshot (last homes are not in it: forgotten). */
  restore(s: LedgerSnapshot): void {
    this.clear();
    this.#epoch = Math.max(this.#epoch, s.epoch);
    this.#markSeq = Math.max(this.#markSeq, s.markSeq);
    for (const [id, marks, at] of s.marks) {
      this.#marks.set(id, new Map(marks));
      this.#markedAt.set(id, at);
    }
    for (const [shard, members, epoch] of s.lostHomes) this.#lostHomes.set(shard, { ring: buildRing(members), epoch });
    for (const [id, shard, epoch] of s.lostGroups) this.#lostGroups.set(id, { shard, epoch });
    for (const id of s.deleted) this.#deleted.add(id);
    for (const [id, shard] of s.cleared) this.#cleared.set(id, shard);
    for (const [id, shard] of s.lastHomes) this.#lastHome.set(id, shard);
    this.#version++;
  }

  /** Increases at every loss: a round that started at epoch E read a shard lost before E only if E > its loss. */
  get epoch(): number {
    return this.#epoch;
  }

  mark(id: string, shard: string): CopyMark | undefined {
    return this.#marks.get(id)?.get(shard);
  }

  /** The standing of `key`'s copy on `shard` (see CopyStanding). */
  standing(id: string, key: GroupingKey, shard: string): CopyStanding {
    const mark = this.mark(id, shard);
    if (mark !== undefined) return mark;
    return this.#lostHomesOf(id, key).includes(shard) ? 'home' : undefined;
  }

  /** Number of marked copies (a metric). */
  get size(): number {
    let n = 0;
    for (const m of this.#marks.values()) n += m.size;
    return n;
  }

  /** `shard` left the routing while unreachable; `ringBefore` still had it. */
  lose(shard: string, ringBefore: Ring): void {
    this.#version++;
    if (!this.#lostHomes.has(shard)) this.#lostHomes.set(shard, { ring: ringBefore, epoch: ++this.#epoch });
  }

  /** A group an override routed to `shard` lost its home with it. */
  loseGroup(id: string, shard: string): void {
    this.#version++;
    this.#lostGroups.set(id, { shard, epoch: ++this.#epoch });
  }

  /**
   * A round that started at `epoch` read `shard` and resolved its copies: it
   * is no longer a lost home, unless it was lost after that round began (the
   * round may have read it just before it failed).
   */
  found(shard: string, epoch = Infinity): void {
    const lost = this.#lostHomes.get(shard);
    if (lost !== undefined && lost.epoch < epoch && this.#lostHomes.delete(shard)) this.#version++;
    for (const [id, g] of this.#lostGroups) if (g.shard === shard && g.epoch < epoch && this.#lostGroups.delete(id)) this.#version++;
  }

  /** The push path deleted the group's copy on `target` (beforePost said 'stale'): a POST may land there now. */
  clearedForPost(id: string, target: string): void {
    this.#version++;
    this.resolved(id, target);
    this.#cleared.set(id, target);
  }


  /** An acknowledged client write of `key` on `target`. */
  written(method: 'PUT' | 'POST' | 'DELETE', key: GroupingKey, id: string, target: string): void {
    this.resolved(id, target);
    if (this.#cleared.size > 0) this.#cleared.delete(id);
    const previous = this.#lastHome.get(id);
    if (method !== 'DELETE' && (previous === undefined || previous === target) && !this.#marks.has(id) && !this.#deleted.has(id) && this.#lostHomes.size === 0 && this.#lostGroups.size === 0) {
      // The common case on every push: the group stays where it was and nothing is marked.
      if (previous === undefined) this.#lastHome.set(id, target);
      return;
    }
    this.#version++;
    // Lost homes of the group, and shards already marked for it (a later PUT or DELETE makes a base stale).
    const homes = new Set(this.#lostHomes.size === 0 && this.#lostGroups.size === 0 ? [] : this.#lostHomesOf(id, key));
    // The routing left the group's last home without a move (a failover, a shard that died outside the ring).
    if (previous !== undefined) homes.add(previous);
    for (const shard of this.#marks.get(id)?.keys() ?? []) homes.add(shard);
    // A group its client deleted before: whatever a lost home kept predates the delete.
    const recreated = this.#deleted.has(id);
    if (method === 'DELETE') {
      this.#lastHome.delete(id);
      this.#deleted.delete(id);
      this.#deleted.add(id);
      if (this.#deleted.size > TOMBSTONES) this.#deleted.delete(this.#deleted.values().next().value ?? '');
    } else {
      this.#lastHome.set(id, target);
      this.#deleted.delete(id);
    }
    for (const home of homes) {
      if (home === target) continue;
      if (method === 'POST' && !recreated) {
        if (this.mark(id, home) === undefined) this.#set(id, home, 'base');
      } else {
        this.#set(id, home, 'stale');
      }
    }
  }

  /** Where this process last put the group's acknowledged content (a client write or a move). */
  lastHome(id: string): string | undefined {
    return this.#lastHome.get(id);
  }

  /** Whether the group's last acknowledged write through this process was a DELETE. */
  deletedByClient(id: string): boolean {
    return this.#deleted.has(id);
  }

  /** The rebalancer put the group's content on `shard` (a move, an adoption, a merge). */
  movedTo(id: string, shard: string): void {
    this.resolved(id, shard);
    this.#lastHome.set(id, shard);
    // Published with the marks (snapshot): a marked group's home must reach the next leader.
    if (this.#marks.has(id) || this.#lostGroups.has(id)) this.#version++;
  }

  /** A DELETE of the group was acknowledged but could not be confirmed on `shard`. */
  deleteMissed(id: string, shard: string): void {
    this.#set(id, shard, 'stale');
  }

  /** The copy on `shard` is gone or was rewritten by shardgate: nothing to remember. */
  resolved(id: string, shard: string): void {
    const m = this.#marks.get(id);
    if (m === undefined || !m.delete(shard)) return;
    this.#version++;
    if (m.size > 0) return;
    this.#marks.delete(id);
    this.#markedAt.delete(id);
  }

  /**
   * The shard whose base copy of the group was marked last: the newest one,
   * holding families written after every other base's. Bases are layered
   * newest first (each goes under what the home holds), so an older base
   * waits until this one is merged. Marks keep their first-set order.
   */
  newestBase(id: string): string | undefined {
    let newest: string | undefined;
    for (const [shard, mark] of this.#marks.get(id) ?? []) if (mark === 'base') newest = shard;
    return newest;
  }

  /**
   * What stands in the way of a POST of the group landing on `target`:
   * - `stale`: the copy there, if any, is older than the group or a stray:
   *   it must be deleted first, or the POST would be layered on it (the
   *   routing reaches a shard before a round cleaned it when the group's
   *   home died; a stray pushed around shardgate is unknown to the ledger,
   *   so any copy on a shard the group's content is not on counts);
   * - `older`: the copy there is a base (older content) and the group's
   *   newest content sits on another shard: the newer content could then
   *   only go under both. The POST waits for a round to merge them, or for
   *   that shard to leave the configuration.
   */
  beforePost(id: string, key: GroupingKey, target: string): 'stale' | 'older' | undefined {
    const mark = this.mark(id, target);
    if (mark === 'stale') return 'stale';
    if (this.#cleared.get(id) === target) return undefined;
    // Never written through this process: where the ring put it before a loss is the best guess of its content.
    const newest = this.#lastHome.get(id) ?? (this.#lostHomes.size === 0 && this.#lostGroups.size === 0 ? undefined : this.#lostHomesOf(id, key)[0]);
    if (newest === undefined || newest === target) return undefined;
    // The group's content is elsewhere (a failover): whatever copy `target` has is a base, or a
    // stray nobody wrote through this process (a direct push, an old persistence file).
    return mark === 'base' ? 'older' : 'stale';
  }

  /**
   * A shard read without the group it had a base copy of: the copy is gone
   * (a DELETE in doubt landed there, or the pushgateway lost its data). The
   * group's content as of that base is gone with it, so every older base is
   * stale too; newer ones keep their standing.
   */
  baseGone(id: string, shard: string): void {
    const m = this.#marks.get(id);
    if (m?.get(shard) !== 'base') return this.resolved(id, shard);
    for (const [s, mark] of m) {
      if (s === shard) break;
      if (mark === 'base') m.set(s, 'stale');
    }
    this.resolved(id, shard);
  }

  /** The group's content is gone from where it was last put: its copy on `shard` is older, a leftover. */
  orphaned(id: string, shard: string): void {
    this.#set(id, shard, 'stale');
  }

  /**
   * Forgets everything (the epoch keeps counting): a replica that becomes
   * leader starts from what the shards hold, as a restarted shardgate does.
   * What it learnt as a follower describes only its own writes, not the
   * fleet's, and would mislead its first rounds.
   */
  clear(): void {
    for (const m of [this.#marks, this.#lostHomes, this.#lostGroups, this.#lastHome, this.#markedAt, this.#cleared]) m.clear();
    this.#deleted.clear();
    this.#epoch++;
    this.#version++;
  }

  /** `shard` left the configuration: whatever it held is out of reach for good. */
  forgetShard(shard: string): void {
    this.#version++;
    this.found(shard, Infinity);
    for (const [id, home] of this.#lastHome) if (home === shard) this.#lastHome.delete(id);
    for (const [id, cleared] of this.#cleared) if (cleared === shard) this.#cleared.delete(id);
    for (const [id, m] of this.#marks) {
      m.delete(shard);
      if (m.size > 0) continue;
      this.#marks.delete(id);
      this.#markedAt.delete(id);
    }
  }

  /** Every shard the ledger remembers something about. */
  shards(): Set<string> {
    const out = new Set<string>([...this.#lostHomes.keys(), ...[...this.#lostGroups.values()].map((g) => g.shard)]);
    for (const m of this.#marks.values()) for (const shard of m.keys()) out.add(shard);
    return out;
  }

  /** Marks on `shard`, for a round to resolve those whose copy it no longer holds. */
  markedOn(shard: string): string[] {
    const out: string[] = [];
    for (const [id, m] of this.#marks) if (m.has(shard)) out.push(id);
    return out;
  }

  /**
   * The shard that holds the group's last acknowledged content, when this
   * process knows it (it wrote or moved the group there) and nothing marks
   * that copy since. When it is not where pushes go now, the routing moved
   * away without a move: that copy is still the group.
   */
  awayHome(id: string): string | undefined {
    const known = this.#lastHome.get(id);
    return known === undefined || this.mark(id, known) !== undefined ? undefined : known;
  }


  /** Lost shards that may hold the group's last acknowledged content. */
  lostHomesOf(id: string, key: GroupingKey): string[] {
    if (this.#lostHomes.size === 0 && this.#lostGroups.size === 0) return [];
    return this.#lostHomesOf(id, key);
  }

  #lostHomesOf(id: string, key: GroupingKey): string[] {
    const known = this.#lastHome.get(id);
    if (known !== undefined) return this.#lostHomes.has(known) || this.#lostGroups.get(id)?.shard === known ? [known] : [];
    // A group this process never wrote: the ring that last had a lost shard is the best guess, and of
    // several such losses the first: had the group been written on a later one's shard since, this
    // process would know it (writes after a loss go through it, under the fence with several replicas).
    const out: string[] = [];
    const byOverride = this.#lostGroups.get(id);
    if (byOverride !== undefined) out.push(byOverride.shard);
    const sk = shardKey(key);
    let first: { shard: string; epoch: number } | undefined;
    for (const [shard, lost] of this.#lostHomes) if (lost.ring.owner(sk) === shard && (first === undefined || lost.epoch < first.epoch)) first = { shard, epoch: lost.epoch };
    if (first !== undefined && !out.includes(first.shard)) out.push(first.shard);
    return out;
  }

  /** Increases with every mark set; a round notes it before it reads. */
  get markSeq(): number {
    return this.#markSeq;
  }

  /** Whether a mark of the group was set after `seq`: a snapshot read since may predate it. */
  markedSince(id: string, seq: number): boolean {
    return (this.#markedAt.get(id) ?? 0) > seq;
  }

  #set(id: string, shard: string, mark: CopyMark): void {
    this.#version++;
    this.#markedAt.set(id, ++this.#markSeq);
    let m = this.#marks.get(id);
    if (m === undefined) {
      m = new Map();
      this.#marks.set(id, m);
    }
    m.set(shard, mark);
  }
}
