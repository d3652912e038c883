/**
 * A small world for the source glue's tests: the real Coordinator,
 * rebalancer and health checks on a manual clock, in-memory pushgateways
 * (one group per job, planted by the test; writes to a shard can be made
 * to fail, so a drain can be held open; a shard can be made unreachable)
 * and a source the test answers for.
 */
import { pino } from 'pino';
import { ManualClock } from '../support/manual-clock.js';
import { Metrics } from '../../src/telemetry/metrics.js';
import { HealthCheckedTargets } from '../../src/membership/health-checked-targets.js';
import { Coordinator } from '../../src/rebalance/coordinator.js';
import { GroupLocks } from '../../src/rebalance/group-locks.js';
import { fleetControl } from '../../src/membership/fleet-control.js';
import { SourcedTargets, type GuardSettings } from '../../src/membership/sourced-targets.js';
import { type DiscoveredTarget, type MembershipSource, type SourceSink } from '../../src/membership/source.js';
import { type ShardClient } from '../../src/upstream/shard-client.js';
import { shardKey } from '../../src/groupingkey/grouping-key.js';
import { type ApiGroup } from '../../src/upstream/metrics-api.js';

/** What a pushgateway answers for a group of job `job` pushed at `seconds`. */
function storedGroup(job: string, seconds: number): ApiGroup {
  const family = (value: string) => ({ time_stamp: new Date(seconds * 1000).toISOString(), type: 'GAUGE' as const, metrics: [{ labels: { job }, value }] });
  return { labels: { job }, last_push_successful: true, work_done: family('1'), push_time_seconds: family(String(seconds)) };
}

export const HEALTH = { intervalMs: 1000, timeoutMs: 500, fall: 1, rise: 1 };

/** A source whose answers the test gives. */
export class FakeSource implements MembershipSource {
  readonly kind = 'fake';
  sink: SourceSink | undefined;
  readonly #first: readonly string[];
  constructor(first: readonly string[]) {
    this.#first = first;
  }
  start(sink: SourceSink): Promise<void> {
    this.sink = sink;
    sink.update(this.#first.map((address) => ({ address, labels: { zone: 'a' } })));
    return Promise.resolve();
  }
  stop(): void {
    this.sink = undefined;
  }
  answer(targets: ReadonlyArray<string | DiscoveredTarget>): void {
    this.sink?.update(targets.map((t) => (typeof t === 'string' ? { address: t, labels: { zone: 'a' } } : t)));
  }
  fail(reason: string): void {
    this.sink?.failed(reason);
  }
}

export async function world(first: readonly string[], guard: GuardSettings = { removeAfterMs: 5000, maxRemovalRatio: 0.5 }) {
  const clock = new ManualClock();
  const down = new Set<string>();
  /** Shards refusing writes: a group cannot move to them. */
  const refusing = new Set<string>();
  const stores = new Map<string, Map<string, ApiGroup>>();
  const store = (t: string): Map<string, ApiGroup> => stores.get(t) ?? stores.set(t, new Map()).get(t) ?? new Map();
  const jobOf = (path: string): string => decodeURIComponent(path.split('/')[3] ?? '');
  let pushes = 0;
  const client: ShardClient = {
    checkHealthy: (t) => (down.has(t) ? Promise.reject(new Error('connection refused')) : Promise.resolve()),
    listGroups: (t) => (down.has(t) ? Promise.reject(new Error('read failed')) : Promise.resolve([...store(t).values()])),
    push(t, _method, path) {
      if (down.has(t) || refusing.has(t)) return Promise.reject(new Error('write failed'));
      store(t).set(jobOf(path), storedGroup(jobOf(path), 1000 + ++pushes));
      return Promise.resolve();
    },
    delete(t, path) {
      if (down.has(t)) return Promise.reject(new Error('write failed'));
      store(t).delete(jobOf(path));
      return Promise.resolve();
    },
  };
  const logs: string[] = [];
  const logger = pino({ level: 'info', base: undefined, timestamp: false }, { write: (line: string) => void logs.push(line) });
  const metrics = new Metrics('test');
  const membership: HealthCheckedTargets = new HealthCheckedTargets({ targets: [], settings: HEALTH, probe: (t, ms) => client.checkHealthy(t, ms), logger, metrics, clock, onRecovering: (t) => coordinator.shardRecovering(t) });
  let glue: SourcedTargets | undefined;
  const coordinator: Coordinator = new Coordinator(
    { client, clock, locks: new GroupLocks(), logger, metrics, membership, timeoutMs: 1000, onDiscoveryChange: () => void glue?.reconcile() },
    { enabled: true, sweepIntervalMs: 60_000, concurrency: 2, maxMovesPerSecond: 1000 },
  );
  membership.onChange(() => void glue?.reconcile());
  glue = new SourcedTargets({ fleet: fleetControl(coordinator, membership), clock, logger, metrics, initial: [], guard, health: HEALTH, tickMs: 1000 });
  const source = new FakeSource(first);
  await membership.start();
  await glue.start(source);
  const g = glue;
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 4; i++) {
      await g.settled();
      await coordinator.idle();
      await clock.advance(0);
    }
  };
  await settle();
  return {
    clock, down, refusing, logs,
    /** Plants a group on a shard, as a push would have. */
    plant: (t: string, job: string) => void store(t).set(job, storedGroup(job, 1000 + ++pushes)),
    jobsOn: (t: string) => [...store(t).keys()].sort(),
    ownerOf: (job: string) => coordinator.routing().ring.owner(shardKey({ job })),
    /** A job whose owner on the current ring is `t`. */
    jobOwnedBy(t: string): string {
      for (let i = 0; ; i++) if (coordinator.routing().ring.owner(shardKey({ job: `j${i}` })) === t) return `j${i}`;
    }, metrics, membership, coordinator, glue: g, source, settle,
    ring: () => coordinator.routing().ring.members,
    configured: () => membership.statuses().map((s) => s.target).sort(),
    /** Advances the clock one second at a time, settling after each. */
    async wait(ms: number, each?: () => void): Promise<void> {
      for (let t = 0; t < ms; t += 1000) {
        await clock.advance(1000);
        await settle();
        each?.();
      }
    },
    stop() {
      g.stop();
      membership.stop();
      coordinator.stop();
    },
  };
}

