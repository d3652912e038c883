/**
 * Several shardgate replicas as one SystemUnderTest: each replica is a
 * whole stack (its own health checks, coordinator, group locks, router,
 * session), as main.ts builds it, on the simulated clock and network, and
 * they share one coordination store with etcd's semantics
 * (test/support/memory-coordination.ts). Each client push goes to a replica
 * drawn at random, as a load balancer would send it; a replica that must
 * not carry it out forwards it to the leader over the simulated network.
 *
 * Faults on top of the fleet's: a replica cut off from the store (and
 * healed), a replica paused (its timers and the answers it awaits are held,
 * as SIGSTOP holds a process; requests it already sent still arrive) and
 * resumed, possibly long after its lease ended.
 *
 * Control (`coordinated: false`): the same replicas without a store, each
 * deciding and rebalancing on its own health view, as several shardgates
 * behind a load balancer did before: the invariants must catch it.
 */
import { type Clock } from '../../src/time/clock.js';
import { type ShardClient } from '../../src/upstream/shard-client.js';
import { type Prng } from './prng.js';
import { type SimScheduler } from './sim-scheduler.js';
import { MemoryStore } from '../support/memory-coordination.js';
import { buildStack, type PushOutcome, type Stack, type SutOptions, type SystemUnderTest } from './system-under-test.js';

export const REPLICA_SETTINGS = {
  /** Long enough that SAFETY × ttl covers maxWriteDelayMs plus two polls (as config validation demands). */
  ttlMs: 25_000,
  pollMs: 1000,
  /** The longest a request leg takes in the simulated network (sim-network.ts: slow legs up to 15 s). */
  maxWriteDelayMs: 15_000,
  /** Hop between replicas (a forwarded push), each way. */
  hopMs: [1, 40] as const,
  lostForward: 0.02,
} as const;

export interface ReplicatedOptions {
  readonly count: number;
  readonly coordinated: boolean;
  readonly prng: Prng;
  readonly sched: SimScheduler;
  /** A background write the write fence refused (the harness grants the group a grace, as for a failed write). */
  readonly onRefused: (target: string, path: string) => void;
}

export interface ReplicatedSystem extends SystemUnderTest {
  readonly store: MemoryStore | undefined;
  readonly replicas: readonly Stack[];
  readonly ids: readonly string[];
  pause(id: string): void;
  resume(id: string): void;
  cut(id: string): void;
  heal(id: string): void;
  /** Violations of "at most one leader writes": a background write by a replica the store did not have as leader then. */
  readonly deposedWrites: string[];
}

/** Holds a paused replica's timers and the answers it waits for. */
class PauseGate {
  paused = false;
  #held: Array<() => void> = [];

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    for (const fn of this.#held.splice(0)) fn();
  }

  /** Resolves at once when running, else on resume. */
  wait(): Promise<void> {
    return this.paused ? new Promise((resolve) => this.#held.push(resolve)) : Promise.resolve();
  }

  clock(base: Clock): Clock {
    const setTimer = (fn: () => void, ms: number): (() => void) => {
      let cancelled = false;
      const cancel = base.setTimer(() => {
        if (cancelled) return;
        if (this.paused) this.#held.push(() => !cancelled && fn());
        else fn();
      }, ms);
      return () => {
        cancelled = true;
        cancel();
      };
    };
    return { now: () => base.now(), setTimer, sleep: (ms) => new Promise((resolve) => void setTimer(resolve, ms)) };
  }

  client(inner: ShardClient): ShardClient {
    const held = <T>(p: Promise<T>): Promise<T> =>
      p.then(
        async (v) => (await this.wait(), v),
        async (e: unknown) => {
          await this.wait();
          throw e;
        },
      );
    return {
      checkHealthy: (t, ms) => held(inner.checkHealthy(t, ms)),
      listGroups: (t, ms) => held(inner.listGroups(t, ms)),
      push: (t, m, p, b, ms) => held(inner.push(t, m, p, b, ms)),
      delete: (t, p, ms) => held(inner.delete(t, p, ms)),
    };
  }
}

export function buildReplicatedSystem(o: SutOptions, r: ReplicatedOptions): ReplicatedSystem {
  const { sched, prng } = r;
  const store = r.coordinated ? new MemoryStore(sched.clock, REPLICA_SETTINGS.ttlMs) : undefined;
  const ids = Array.from({ length: r.count }, (_, i) => `r${i}`);
  const gates = new Map(ids.map((id) => [id, new PauseGate()]));
  const deposedWrites: string[] = [];
  const latency = (): Promise<void> => sched.clock.sleep(prng.int(REPLICA_SETTINGS.hopMs[0], REPLICA_SETTINGS.hopMs[1]));
  if (store !== undefined) {
    store.delay = async (id) => {
      await latency();
      await gates.get(id)?.wait();
    };
  }
  const replicas: Stack[] = ids.map((id) => {
    const gate = gates.get(id)!;
    return buildStack(
      {
        ...o,
        clock: gate.clock(o.clock),
        client: gate.client(o.client),
        healthClient: gate.client(o.healthClient),
        forward: async (target, method, path, body) => {
          try {
            return await o.forward(target, method, path, body);
          } finally {
            await gate.wait();
          }
        },
        log: (line) => o.log(`${id} ${line}`),
      },
      store === undefined
        ? undefined
        : {
            id,
            backend: store.backend(id),
            pollMs: REPLICA_SETTINGS.pollMs,
            maxWriteDelayMs: REPLICA_SETTINGS.maxWriteDelayMs,
            onRefused: r.onRefused,
            onLeaderWrite: (writer) => {
              const leader = store.leaderNow();
              if (leader?.id !== writer) deposedWrites.push(`${writer} wrote as leader at ${sched.now} ms while the store had ${leader?.id ?? 'no leader'}`);
            },
          },
    );
  });
  const byId = new Map(ids.map((id, i) => [id, replicas[i]!]));
  /** The replica whose view the checks read: the store's leader (else the first). */
  const leader = (): Stack => {
    if (store === undefined) return replicas[0]!;
    const l = store.leaderNow();
    return (l === undefined ? undefined : byId.get(l.id)) ?? replicas.find((s) => s.node?.leading()) ?? replicas[0]!;
  };

  async function pushVia(entry: Stack, id: string, method: 'PUT' | 'POST' | 'DELETE', key: Parameters<SystemUnderTest['push']>[1], body: string): Promise<PushOutcome> {
    await gates.get(id)!.wait();
    let route;
    try {
      route = entry.routeWrite(method, false);
    } catch {
      return 'refused';
    }
    if (route.kind === 'local') return entry.push(method, key, body);
    // Forwarded to the leader over the network: lost on the way (nothing sent), or answer lost (in doubt).
    const target = byId.get(route.leader);
    await latency();
    if (target === undefined || prng.chance(REPLICA_SETTINGS.lostForward)) return 'refused';
    await gates.get(route.leader)!.wait();
    let outcome: PushOutcome;
    try {
      const again = target.routeWrite(method, true);
      if (again.kind !== 'local') return 'refused';
      outcome = await target.push(method, key, body);
    } catch {
      return 'refused';
    }
    await latency();
    if (prng.chance(REPLICA_SETTINGS.lostForward)) return outcome === 'refused' ? 'refused' : 'in-doubt';
    return outcome;
  }

  const first = replicas[0]!;
  return {
    store,
    replicas,
    ids,
    deposedWrites,
    pause: (id) => gates.get(id)?.pause(),
    resume: (id) => gates.get(id)?.resume(),
    cut: (id) => store?.cut(id),
    heal: (id) => store?.heal(id),
    async boot() {
      await Promise.all(replicas.map((s) => s.boot()));
    },
    push(method, key, body) {
      const id = prng.pick(ids);
      // Without coordination each replica carries out what it receives, on its own view.
      if (store === undefined) return byId.get(id)!.push(method, key, body);
      return pushVia(byId.get(id)!, id, method, key, body);
    },
    // Admin calls reach the leader (followers forward them).
    bulkDelete: (selector, client, deleted) => leader().bulkDelete(selector, client, deleted),
    async reloadTargets(next) {
      // Every replica gets the new file; a paused one applies it when it runs again (the harness does not wait for it).
      const results = replicas.map((s) => s.reloadTargets(next));
      const running = results.filter((_, i) => !gates.get(ids[i]!)!.paused);
      return (await Promise.all(running.length > 0 ? running : results)).every(Boolean);
    },
    drain: (target, on) => leader().drain(target, on),
    checkAll: async () => {
      await Promise.all(replicas.map((s) => s.checkAll()));
    },
    routeOf: (key) => leader().routeOf(key),
    ringOwner: (key) => leader().ringOwner(key),
    publishedMembers: () => leader().publishedMembers(),
    overrideCount: () => leader().overrideCount(),
    desiredMembers: () => leader().desiredMembers(),
    configured: () => first.configured(),
    // Prometheus may refresh its targets from any replica: the union of what they answer (one whose view may be stale answers 503).
    discovery: () => [...new Set(replicas.flatMap((s) => (s.node === undefined ? s.discovery() : s.node.staleView() !== undefined ? [] : s.node.discovery().flatMap((g) => g.targets))))],
    drainState: (t) => leader().drainState(t),
    health: (t) => leader().health(t),
    moving: (id) => replicas.some((s) => s.moving(id)),
    locksHeld: () => replicas.reduce((n, s) => n + s.locksHeld(), 0),
    async idle() {
      await Promise.all(replicas.map((s) => s.idle()));
    },
    stop() {
      for (const g of gates.values()) g.resume();
      for (const s of replicas) s.stop();
    },
  };
}
