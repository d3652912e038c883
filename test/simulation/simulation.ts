/**
 * Runs one schedule against the real routing, locking, membership and
 * rebalancer: boot, the clients' pushes interleaved with fleet events
 * (invariants checked after every event), then healing (resume, restart,
 * calm network, undrain if nothing else is left) until the fleet settles,
 * then the end invariants.
 *
 * Settled means: every configured shard up, the published ring is the one
 * membership wants with no override left, no lock held, every group in
 * place, and one whole sweep interval in which the rebalancer wrote nothing.
 */
import { groupId } from '../../src/groupingkey/grouping-key.js';
import { prngFor, type Prng } from './prng.js';
import { SimScheduler } from './sim-scheduler.js';
import { CALM, SimNetwork, SimShardClient } from './sim-network.js';
import { keyOfPath } from './sim-pushgateway.js';
import { generateSchedule, type Client, type Schedule } from './schedule.js';
import { renderBody } from './client-bodies.js';
import { type ShardClient } from '../../src/upstream/shard-client.js';
import { parseBody } from './group-content.js';
import { ReferenceModel } from './reference-model.js';
import { buildSystem, type SutOptions, type SystemUnderTest } from './system-under-test.js';
import { buildReplicatedSystem, type ReplicatedSystem } from './replicated-system.js';
import { Fleet } from './fleet.js';
import { Trace } from './trace.js';
import { checkDrains, checkEnd, checkRequestsSettle, checkScrapedCopies, label, type FleetView, type PendingRequest, type TwoCopyStats, type Violation, type Check } from './invariants.js';

export const SETTINGS = {
  health: { intervalMs: 5000, timeoutMs: 2000, fall: 2, rise: 2 },
  rebalance: { sweepIntervalMs: 30_000, concurrency: 4, maxMovesPerSecond: 50 },
  rebalanceTimeoutMs: 30_000,
  clientTimeoutMs: 10_000,
} as const;

/**
 * I2's bound: a push waits at most for one lock holder, a rebalancer batch
 * doing at most (2 + 4 per group) upstream calls of at most
 * rebalanceTimeoutMs each, then for its own forward.
 */
const requestBoundMs = (groups: number): number => SETTINGS.clientTimeoutMs * 2 + (2 + 4 * groups) * SETTINGS.rebalanceTimeoutMs;
const GRACE_MS = SETTINGS.rebalance.sweepIntervalMs + 2 * SETTINGS.rebalanceTimeoutMs;
const MAX_HEAL_WINDOWS = 12;
/** Virtual time after which a run that has not finished its plan is declared hung. */
const RUN_LIMIT_MS = 3 * 3600_000;

export interface RunResult {
  readonly seed: number;
  readonly violation: Violation | undefined;
  readonly trace: string[];
  readonly traceHash: string;
  readonly events: number;
  readonly virtualMs: number;
  readonly longestTwoCopyMs: number;
  readonly schedule: Schedule;
}

export interface RunOptions {
  /** Keep the whole trace (for --trace). */
  readonly traceAll?: boolean;
  readonly traceLines?: number;
  /**
   * Adds bulk deletes by matchers (DELETE /api/v1/groups) at random times,
   * drawn from their own stream (the rest of the schedule is unchanged):
   * a group deleted while a client push acknowledged after the listing
   * read its shard exists is a violation.
   */
  readonly bulkDeletes?: boolean;
  /** Checks to set aside (a known defect), to look past it for others. */
  readonly ignore?: ReadonlySet<Check>;
  /** Targets from a misbehaving membership source (sim-source.ts) with these guard settings, instead of the static list. */
  readonly source?: { readonly removeAfterMs: number; readonly maxRemovalRatio: number };
  /**
   * Several shardgate replicas (replicated-system.ts): `coordinated` through a
   * store with leases (the product), or each deciding alone (the control).
   * Adds replica faults drawn from their own stream.
   */
  readonly replicas?: { readonly count: number; readonly coordinated: boolean };
}

export async function runSeed(seed: number, opts: RunOptions = {}): Promise<RunResult> {
  const ignore = opts.ignore ?? new Set<Check>();
  const first = (found: readonly Violation[]): Violation | undefined => found.find((f) => !ignore.has(f.check));
  const root = prngFor(seed);
  const schedule = generateSchedule(seed, root.fork('schedule'));
  const trace = new Trace(opts.traceLines ?? 60, opts.traceAll ?? false);
  const sched = new SimScheduler(root.fork('ties'));
  const net = new SimNetwork(sched, root.fork('network'), trace);
  const ref = new ReferenceModel();
  const fleet = new Fleet(sched, net, root.fork('fleet'), trace, ref, { graceMs: GRACE_MS });
  const initial = Array.from({ length: schedule.shards }, () => fleet.spawn());
  fleet.config = initial;
  const rebalancerClient = new SimShardClient(net, 'rebalancer');
  // A failed rebalancer call may leave two copies until a later round: excused for a grace period.
  rebalancerClient.onFailure = (target, path) => (path === undefined ? fleet.graceShard(target) : fleet.graceGroup(groupId(keyOfPath(path))));
  const sutOptions: SutOptions = {
    clock: sched.clock,
    targets: initial,
    client: rebalancerClient,
    healthClient: new SimShardClient(net, 'health'),
    forward: async (target, method, path, body) => {
      const req = method === 'DELETE' ? ({ kind: 'delete', path } as const) : ({ kind: 'write', method, path, body } as const);
      return (await net.call('client', target, req, SETTINGS.clientTimeoutMs)).status;
    },
    health: SETTINGS.health,
    rebalance: SETTINGS.rebalance,
    rebalanceTimeoutMs: SETTINGS.rebalanceTimeoutMs,
    log: (line) => trace.add(sched.now, line.startsWith('SOURCE') ? line : `LOG ${line}`),
    ...(opts.source ? { source: { ...opts.source, prng: root.fork('source') } } : {}),
  };
  const replicated = opts.replicas === undefined ? undefined : buildReplicatedSystem(sutOptions, { ...opts.replicas, prng: root.fork('replicas'), sched, onRefused: (target, path) => rebalancerClient.onFailure(target, path) });
  const sut: SystemUnderTest = replicated ?? buildSystem(sutOptions);
  fleet.sut = sut;

  const pending = new Set<PendingRequest>();
  // With a membership source, a target the harness removed stays configured until its drain ends: the checks look at what shardgate has.
  const view: FleetView = { sut, ref, shards: fleet.shards, pending, now: () => sched.now, configured: () => (opts.source ? sut.configured() : fleet.config), version: () => fleet.version, graced: (id, on) => fleet.graced(id, on) };
  const twoCopies: TwoCopyStats = { longestMs: 0, group: '', seen: '', twice: false };
  const open = new Map<string, number>();
  const bound = requestBoundMs(schedule.clients.length);
  let violation: Violation | undefined;
  let ring: readonly string[] = [];
  const afterEvent = (): void => {
    if (sut.publishedMembers() !== ring) {
      ring = sut.publishedMembers();
      trace.add(sched.now, `RING ${ring.join(',') || '(empty)'} (${sut.overrideCount()} override(s))`);
    }
    violation ??= first(checkRequestsSettle(view, bound)) ?? first(checkScrapedCopies(view, open, twoCopies));
    if (replicated !== undefined) violation ??= first(checkReplicas(replicated));
  };
  const result = (): RunResult => ({ seed, violation, trace: trace.last(opts.traceAll ? Infinity : undefined), traceHash: trace.hash, events: sched.eventsRun, virtualMs: sched.now, longestTwoCopyMs: twoCopies.longestMs, schedule });
  /** Steps until `done()` or virtual time `limit`; false if stopped by a violation or the limit. */
  const runWhile = async (done: () => boolean, limit: number): Promise<boolean> => {
    while (violation === undefined && !done()) {
      if (!(await sched.step(limit))) return false;
      afterEvent();
    }
    return violation === undefined;
  };

  // Boot as main.ts does.
  let booted = false;
  void sut.boot().then(() => (booted = true));
  await runWhile(() => booted, 120_000);
  trace.add(sched.now, `BOOT members ${sut.publishedMembers().join(',')}`);

  // The plan: clients and fleet events.
  let clientsDone = 0;
  let version = 0;
  /** Virtual times of acknowledged client PUTs and POSTs, by group. */
  const acks = new Map<string, number[]>();
  const runClient = async (c: Client): Promise<void> => {
    const id = groupId(c.group);
    for (const op of c.ops) {
      if (op.thinkMs > 0) await sched.clock.sleep(op.thinkMs);
      const body = op.method === 'DELETE' ? '' : renderBody(op.families, ++version);
      const req: PendingRequest = { group: c.group, what: `${op.method} v${version} of ${label(c.group)}`, since: sched.now };
      pending.add(req);
      trace.add(sched.now, `CLIENT ${req.what} (${op.families.join(' ') || 'no families'}) sent`);
      const outcome = await sut.push(op.method, c.group, body);
      pending.delete(req);
      trace.add(sched.now, `CLIENT ${req.what}: ${outcome}`);
      ref.record(id, c.group, op.method === 'DELETE' ? { method: 'DELETE' } : { method: op.method, body: parseBody(body, c.group) }, outcome);
      if (outcome === 'ack' && op.method !== 'DELETE') acks.set(id, [...(acks.get(id) ?? []), sched.now]);
    }
    clientsDone++;
  };
  for (const c of schedule.clients) sched.after(c.startMs, () => void runClient(c));
  let planEnd = 0;
  let fleetActed = 0;
  for (const e of schedule.fleet) {
    sched.after(e.atMs, () => {
      fleetActed++;
      void fleet.act(e.action).then((v) => void (violation ??= first(v === undefined ? [] : [v])));
    });
    const tail = e.action.kind === 'kill' ? (e.action.restartAfterMs ?? 0) : e.action.kind === 'pause' ? e.action.resumeAfterMs : 0;
    planEnd = Math.max(planEnd, sched.now + e.atMs + tail);
  }
  // Bulk deletes: the listing's read of each shard ends at a known time; a group deleted on its
  // shard must have had no client push acknowledged after that read.
  const bulk = opts.bulkDeletes ? bulkPlan(root.fork('bulk')) : [];
  let bulkDone = 0;
  for (const b of bulk) {
    sched.after(b.atMs, () => {
      const listedAt = new Map<string, number>();
      const inner = new SimShardClient(net, 'bulk');
      inner.onFailure = rebalancerClient.onFailure;
      const client: ShardClient = {
        checkHealthy: (t, ms) => inner.checkHealthy(t, ms),
        listGroups: async (t, ms) => {
          const groups = await inner.listGroups(t, ms);
          if (!listedAt.has(t)) listedAt.set(t, sched.now);
          return groups;
        },
        push: (t, m, p, body, ms) => inner.push(t, m, p, body, ms),
        delete: (t, p, ms) => inner.delete(t, p, ms),
      };
      trace.add(sched.now, `BULK DELETE ${b.selector}`);
      void sut
        .bulkDelete(b.selector, client, (id, key, target, acknowledged) => {
          trace.add(sched.now, `BULK deleted ${label(key)} on ${target}: ${acknowledged ? 'ack' : 'in-doubt'}`);
          const read = listedAt.get(target) ?? -1;
          const newer = (acks.get(id) ?? []).find((t) => t > read);
          if (acknowledged && newer !== undefined) {
            violation ??= first([{ invariant: 'I1', check: 'bulk-deleted-newer-push', group: label(key), message: `bulk delete removed ${label(key)} from ${target}, read at ${read} ms, although a push was acknowledged at ${newer} ms` }]);
          }
          ref.record(id, key, { method: 'DELETE' }, acknowledged ? 'ack' : 'in-doubt');
        })
        .then((r) => trace.add(sched.now, `BULK DELETE ${b.selector}: ${JSON.stringify(r.total)}`))
        .finally(() => bulkDone++);
    });
    planEnd = Math.max(planEnd, sched.now + b.atMs);
  }
  // Replica faults: cut off from the store, paused (possibly past its lease), then back.
  const replicaFaults = replicated === undefined ? [] : replicaPlan(root.fork('replica-faults'), replicated.ids.length);
  for (const f of replicaFaults) {
    sched.after(f.atMs, () => {
      const store = replicated!.store;
      const victim = f.leader ? (store?.leaderNow()?.id ?? replicated!.ids[0]!) : replicated!.ids[f.index]!;
      trace.add(sched.now, `REPLICA ${f.kind} ${victim} for ${f.forMs} ms`);
      if (f.kind === 'pause') replicated!.pause(victim);
      else replicated!.cut(victim);
      sched.after(f.forMs, () => {
        trace.add(sched.now, `REPLICA ${f.kind === 'pause' ? 'resume' : 'heal'} ${victim}`);
        if (f.kind === 'pause') replicated!.resume(victim);
        else replicated!.heal(victim);
      });
    });
    planEnd = Math.max(planEnd, sched.now + f.atMs + f.forMs);
  }
  // Every fleet event has fired (one due at planEnd itself too), so healing sees the fleet the plan left.
  const ran = await runWhile(() => clientsDone === schedule.clients.length && fleetActed === schedule.fleet.length && bulkDone === bulk.length && sched.now >= planEnd, RUN_LIMIT_MS);
  if (!ran && violation === undefined) violation = first([{ invariant: 'I2', check: 'plan-unfinished', message: `the plan did not finish within ${RUN_LIMIT_MS / 3600_000} h of virtual time (${pending.size} request(s) pending)` }]);
  if (violation !== undefined) return finish(sut, result);

  // Heal, then wait for the fleet to settle.
  trace.add(sched.now, 'HEAL');
  net.rates = CALM;
  for (const [name, shard] of fleet.shards) {
    if (shard.state === 'paused') fleet.resume(name);
    if (shard.state === 'dead' && fleet.config.includes(name)) fleet.restart(name, 0);
  }
  if (fleet.config.every((t) => sut.drainState(t) !== null)) for (const t of fleet.config) sut.drain(t, false);
  let settled = false;
  for (let i = 0; i < MAX_HEAL_WINDOWS && !settled && violation === undefined; i++) {
    const writes = rebalancerClient.writes;
    const end = sched.now + SETTINGS.rebalance.sweepIntervalMs + 2000;
    await runWhile(() => false, end);
    sched.advanceTo(end);
    settled = rebalancerClient.writes === writes && inPlace(view);
  }
  violation ??= first(checkEnd(view)) ?? first(checkDrains(view));
  if (!settled) violation ??= first([{ invariant: 'I4', check: 'unsettled', message: `the fleet did not settle within ${MAX_HEAL_WINDOWS} sweep intervals after healing (${describeUnsettled(view)})` }]);
  return finish(sut, result);
}

/** Replica faults: some hit whoever leads at that moment; pauses sometimes outlast the lease. */
function replicaPlan(prng: Prng, count: number): Array<{ readonly atMs: number; readonly kind: 'pause' | 'cut'; readonly index: number; readonly leader: boolean; readonly forMs: number }> {
  return Array.from({ length: prng.int(1, 5) }, () => ({
    atMs: prng.int(1000, 150_000),
    kind: prng.chance(0.5) ? ('pause' as const) : ('cut' as const),
    index: prng.int(0, count - 1),
    leader: prng.chance(0.5),
    forMs: prng.chance(0.5) ? prng.int(500, 10_000) : prng.int(10_000, 60_000),
  }));
}

/**
 * The replica protocol's own invariants, checked after every event:
 * - only the store's current leader writes in the background (a deposed
 *   leader that wakes up must not);
 * - while a leader holds the write fence, no follower whose session the
 *   store still has is writing to a shard directly.
 */
function checkReplicas(r: ReplicatedSystem): Violation[] {
  const deposed = r.deposedWrites[0];
  if (deposed !== undefined) return [{ invariant: 'I1', check: 'deposed-leader-wrote', message: deposed }];
  const store = r.store;
  if (store === undefined) return [];
  // One leader per revision: every accepted publication has a revision above all before it.
  for (let i = 1; i < store.accepted.length; i++) {
    const [a, b] = [store.accepted[i - 1]!, store.accepted[i]!];
    if (b.revision <= a.revision) return [{ invariant: 'I1', check: 'deposed-leader-wrote', message: `revision ${b.revision} published by ${b.leader} (term ${b.term}) after revision ${a.revision} by ${a.leader} (term ${a.term})` }];
  }
  const live = new Set(store.read().replicas.map((x) => x.id));
  for (const [i, l] of r.replicas.entries()) {
    if (l.node?.fence.held() !== true) continue;
    for (const [j, f] of r.replicas.entries()) {
      // A follower that acknowledged nothing in its current session (it lapsed) sent what it has in flight before:
      // the leader did not wait for it, and those writes landed before its old session could end (maxWriteDelayMs).
      if (j === i || f.node === undefined || f.node.writes.inFlight === 0 || !live.has(r.ids[j]!) || f.node.session.acknowledged() === undefined) continue;
      return [{ invariant: 'I1', check: 'direct-write-under-fence', message: `${r.ids[i]} holds the write fence while ${r.ids[j]} has ${f.node.writes.inFlight} direct write(s) in flight` }];
    }
  }
  return [];
}

/** When bulk deletes run, and which job each selects (the jobs of schedule.ts's keys). */
function bulkPlan(prng: Prng): Array<{ readonly atMs: number; readonly selector: string }> {
  return Array.from({ length: prng.int(1, 4) }, () => ({ atMs: prng.int(1000, 150_000), selector: `{job="${prng.pick(['a', 'b', 'c', 'd', 'e', 'f'])}"}` }));
}

function finish(sut: SystemUnderTest, result: () => RunResult): RunResult {
  sut.stop();
  return result();
}

/** Routing and placement are final (content is checked by checkEnd). */
function inPlace(v: FleetView): boolean {
  return describeUnsettled(v) === '';
}

function describeUnsettled(v: FleetView): string {
  const { sut } = v;
  const wrong: string[] = [];
  const down = v.configured().filter((t) => sut.health(t) !== 'up');
  if (down.length > 0) wrong.push(`not up: ${down.join(',')}`);
  if (sut.publishedMembers().join(',') !== sut.desiredMembers().join(',')) wrong.push(`published ring ${sut.publishedMembers().join(',')} != wanted ${sut.desiredMembers().join(',')}`);
  if (sut.overrideCount() > 0) wrong.push(`${sut.overrideCount()} override(s) left`);
  if (sut.locksHeld() > 0) wrong.push(`${sut.locksHeld()} lock(s) held`);
  for (const t of v.configured()) {
    for (const [id, g] of v.shards.get(t)?.groups ?? []) {
      if (sut.ringOwner(g.key) !== t) wrong.push(`${id.replaceAll('\u0000', ' ')} on ${t}, not its owner`);
    }
  }
  return wrong.join('; ');
}
