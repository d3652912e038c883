/**
 * The pushgateway fleet and what an operator (or bad luck) does to it:
 * add, remove, kill, pause, restart with an old copy, drain, undrain, a
 * rejected reload, flaky shards, strays planted around shardgate. Keeps the
 * harness's own view of the config, every group's write history (to plant
 * old copies from), and the grace periods the I3 check allows after a
 * fault.
 */
import { groupId } from '../../src/groupingkey/grouping-key.js';
import { type Prng } from './prng.js';
import { type SimScheduler } from './sim-scheduler.js';
import { type SimNetwork } from './sim-network.js';
import { SimPushgateway, type StoredGroup } from './sim-pushgateway.js';
import { type FleetAction } from './schedule.js';
import { type ReferenceModel } from './reference-model.js';
import { type SystemUnderTest } from './system-under-test.js';
import { type Violation } from './invariants.js';
import { type Trace } from './trace.js';

/** How long a two-copy state is excused after the fault that may cause it. */
export interface FleetTiming {
  readonly graceMs: number;
}

export class Fleet {
  readonly shards = new Map<string, SimPushgateway>();
  readonly #sched: SimScheduler;
  readonly #net: SimNetwork;
  readonly #prng: Prng;
  readonly #trace: Trace;
  readonly #ref: ReferenceModel;
  readonly #timing: FleetTiming;
  readonly #history = new Map<string, StoredGroup[]>();
  readonly #graceShard = new Map<string, number>();
  readonly #graceGroup = new Map<string, number>();
  #config: string[] = [];
  #configVersion = 0;
  #named = 0;
  sut: SystemUnderTest | undefined;

  constructor(sched: SimScheduler, net: SimNetwork, prng: Prng, trace: Trace, ref: ReferenceModel, timing: FleetTiming) {
    net.onLateWrite = (_target, id) => this.graceGroup(id);
    this.#sched = sched;
    this.#net = net;
    this.#prng = prng;
    this.#trace = trace;
    this.#ref = ref;
    this.#timing = timing;
  }

  /** A new, empty shard (not yet in the config). */
  spawn(): string {
    const name = `pg${++this.#named}:9091`;
    const shard = new SimPushgateway(name, () => this.#sched.now, this.#prng.int(-2000, 2000));
    shard.onWrite = (id, _key, stored) => {
      if (stored === undefined) return;
      const h = this.#history.get(id) ?? [];
      h.push(stored);
      this.#history.set(id, h.slice(-20));
    };
    this.shards.set(name, shard);
    this.#net.addShard(shard);
    return name;
  }

  set config(targets: readonly string[]) {
    this.#config = [...targets];
    this.#configVersion++;
  }

  /** Changes whenever any store or the config changed. */
  get version(): number {
    let v = this.#configVersion;
    for (const s of this.shards.values()) v += s.version;
    return v;
  }

  get config(): readonly string[] {
    return this.#config;
  }

  graced(id: string, holders: readonly string[]): boolean {
    const now = this.#sched.now;
    return (this.#graceGroup.get(id) ?? -1) > now || holders.some((h) => (this.#graceShard.get(h) ?? -1) > now);
  }

  graceShard(target: string): void {
    this.#graceShard.set(target, this.#sched.now + this.#timing.graceMs);
  }

  graceGroup(id: string): void {
    this.#graceGroup.set(id, this.#sched.now + this.#timing.graceMs);
  }

  /** Runs one fleet action; a violation it detects at once (a refused reload that changed things, a drain emptying the ring). */
  async act(a: FleetAction): Promise<Violation | undefined> {
    const sut = this.#sut();
    const live = this.#config.filter((t) => this.shards.get(t)?.state !== 'dead');
    switch (a.kind) {
      case 'add': {
        const name = this.spawn();
        this.#note(`reload: add ${name}`);
        await this.#reload([...this.#config, name]);
        return undefined;
      }
      case 'remove': {
        // Scale-in as the README says: a drained or empty shard leaves the config.
        const ready = this.#config.filter((t) => sut.drainState(t) === 'drained' || this.shards.get(t)?.groups.size === 0);
        const victim = pickOf(ready, a.pick);
        if (victim === undefined || this.#config.length <= 1) return undefined;
        for (const id of this.shards.get(victim)?.groups.keys() ?? []) {
          if (!this.#config.some((t) => t !== victim && this.shards.get(t)?.groups.has(id))) this.#ref.mayBeLost(id);
        }
        this.#note(`reload: remove ${victim}`);
        await this.#reload(this.#config.filter((t) => t !== victim));
        return undefined;
      }
      case 'kill': {
        const victim = pickOf(live, a.pick);
        if (victim === undefined) return undefined;
        this.shards.get(victim)?.kill();
        this.#note(`kill ${victim}`);
        if (a.restartAfterMs !== null) this.#sched.after(a.restartAfterMs, () => this.restart(victim, a.oldCopies));
        return undefined;
      }
      case 'pause': {
        const victim = pickOf(live.filter((t) => this.shards.get(t)?.state === 'up'), a.pick);
        if (victim === undefined) return undefined;
        this.shards.get(victim)?.pause();
        this.#note(`pause ${victim}`);
        this.#sched.after(a.resumeAfterMs, () => this.resume(victim));
        return undefined;
      }
      case 'drain': {
        const victim = pickOf(this.#config.filter((t) => sut.drainState(t) === null), a.pick);
        if (victim === undefined) return undefined;
        const before = sut.desiredMembers().length;
        const accepted = sut.drain(victim, true);
        this.#note(`drain ${victim}: ${accepted ? 'accepted' : 'refused'}`);
        if (accepted && before > 0 && sut.desiredMembers().length === 0) return { invariant: 'I4', check: 'drain-empties-ring', message: `drain of ${victim}, the last active member, was accepted: the ring is empty` };
        return undefined;
      }
      case 'undrain': {
        const victim = pickOf(this.#config.filter((t) => sut.drainState(t) !== null), a.pick);
        if (victim !== undefined) this.#note(`undrain ${victim}: ${sut.drain(victim, false) ? 'accepted' : 'refused'}`);
        return undefined;
      }
      case 'reload-empty': {
        // Health checks may change the members while the reload waits its turn; the configured targets may not.
        const before = sut.configured().join(',');
        const accepted = await sut.reloadTargets([]);
        this.#note(`reload: empty target list ${accepted ? 'accepted' : 'refused'}`);
        const after = sut.configured().join(',');
        if (accepted || before !== after) return { invariant: 'I4', check: 'empty-reload', message: `a reload with no targets was ${accepted ? 'accepted' : 'refused but changed the fleet'}` };
        return undefined;
      }
      case 'check-all':
        this.#note('health check round');
        void sut.checkAll();
        return undefined;
      case 'plant':
        this.#plant(a.pick, a.shards);
        return undefined;
      case 'flaky': {
        const victim = pickOf(this.#config, a.pick);
        if (victim === undefined) return undefined;
        this.#net.flakyUntil(victim, this.#sched.now + a.forMs);
        this.#note(`flaky ${victim} for ${a.forMs} ms`);
        return undefined;
      }
    }
  }

  resume(target: string): void {
    const shard = this.shards.get(target);
    if (shard?.state !== 'paused') return;
    this.#note(`resume ${target}`);
    this.graceShard(target);
    shard.resume();
  }

  /** Restarts a dead shard; with `oldCopies`, its persistence file also held old states of groups it no longer has. */
  restart(target: string, oldCopies: number): void {
    const shard = this.shards.get(target);
    if (shard?.state !== 'dead') return;
    const old = oldCopies > 0 ? this.#oldStates(target, oldCopies) : [];
    this.#note(`restart ${target}${old.length > 0 ? ` with ${old.length} old cop${old.length === 1 ? 'y' : 'ies'}` : ''}`);
    this.graceShard(target);
    shard.restart(old);
  }

  #plant(pick: number, count: number): void {
    const candidates = this.#config.filter((t) => this.shards.get(t)?.state !== 'dead');
    const olds = this.#oldStates(undefined, 1, pick);
    const old = olds[0];
    if (old === undefined) return;
    const id = groupId(old.key);
    const owner = this.#sut().ringOwner(old.key);
    const targets = this.#prng.shuffled(candidates.filter((t) => t !== owner && !this.shards.get(t)?.groups.has(id))).slice(0, count);
    for (const t of targets) {
      this.shards.get(t)?.plant(old);
      this.graceShard(t);
    }
    if (targets.length > 0) this.#note(`plant stray of ${id.replaceAll('\u0000', ' ')} (push_time ${old.pushTime.toFixed(3)}) on ${targets.join(', ')}`);
  }

  /**
   * Old states of existing groups, each older (by push_time) than every
   * current copy by a second, and not held by `exclude`: a copy that a
   * failover or an old persistence file leaves behind, which must never
   * win over the live one.
   */
  #oldStates(exclude: string | undefined, n: number, pick = this.#prng.u32()): StoredGroup[] {
    const out: StoredGroup[] = [];
    const ids = [...this.#history.keys()].sort();
    for (let i = 0; i < ids.length && out.length < n; i++) {
      const id = ids[(pick + i) % ids.length] ?? '';
      const copies = this.#config.flatMap((t) => {
        const g = this.shards.get(t)?.groups.get(id);
        return g === undefined ? [] : [g];
      });
      if (copies.length === 0 || (exclude !== undefined && this.shards.get(exclude)?.groups.has(id))) continue;
      const newest = Math.min(...copies.map((c) => c.pushTime));
      const old = (this.#history.get(id) ?? []).filter((h) => h.pushTime < newest - 1);
      if (old.length > 0) out.push(this.#prng.pick(old));
    }
    return out;
  }

  async #reload(next: readonly string[]): Promise<void> {
    if (await this.#sut().reloadTargets(next)) this.config = next;
  }

  #sut(): SystemUnderTest {
    if (this.sut === undefined) throw new Error('fleet used before the system under test was built');
    return this.sut;
  }

  #note(line: string): void {
    this.#trace.add(this.#sched.now, `FLEET ${line}`);
  }
}

function pickOf(items: readonly string[], pick: number): string | undefined {
  return items.length === 0 ? undefined : items[pick % items.length];
}
