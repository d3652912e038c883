/**
 * The replica protocol without a network: several ReplicaNodes over the
 * in-memory store (etcd's semantics, test/support/memory-coordination.ts),
 * on a manual clock. Each test states the property it guards; the
 * simulation (test/simulation/replicas.test.ts) checks them under thousands
 * of interleavings with real routing underneath.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { ManualClock } from '../support/manual-clock.js';
import { MemoryStore } from '../support/memory-coordination.js';
import { ReplicaNode } from '../../src/replicas/replica-node.js';
import { ReplicaMetrics } from '../../src/replicas/replica-metrics.js';
import { SAFETY } from '../../src/replicas/replica-session.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { buildRing } from '../../src/ring/rendezvous-ring.js';
import { type PublishedState } from '../../src/rebalance/coordinator.js';

const TTL = 10_000;
const POLL = 500;

interface Fixture {
  clock: ManualClock;
  store: MemoryStore;
  nodes: ReplicaNode[];
  events: string[];
}

function fixture(n: number): Fixture {
  const clock = new ManualClock();
  const store = new MemoryStore(clock, TTL);
  const events: string[] = [];
  const state: PublishedState = { members: ['a:9091', 'b:9091'], overrides: [], draining: [], discovery: [] };
  const nodes: ReplicaNode[] = [];
  for (let i = 0; i < n; i++) {
    const id = `r${i}`;
    nodes.push(
      new ReplicaNode({
        backend: store.backend(id),
        self: { id, url: `http://${id}:9292` },
        clock,
        logger: silentLogger(),
        metrics: new ReplicaMetrics(new Registry()),
        pollMs: POLL,
        maxWriteDelayMs: 2_000,
        notReadyAfterMs: 5_000,
        directAllowed: true,
        coordinator: {
          takeOver: () => void events.push(`${id} took over`),
          stepDown: () => void events.push(`${id} stepped down`),
          takenOver: () => true,
          publishedState: () => state,
          routing: () => ({ ring: buildRing(state.members), overrides: new Map() }),
          discovery: () => [],
        },
        onAdopt: (ring) => void events.push(`${id} adopted ${ring.revision}`),
      }),
    );
  }
  return { clock, store, nodes, events };
}

async function startAll(f: Fixture): Promise<void> {
  await Promise.all(f.nodes.map((n) => n.start()));
  await f.clock.advance(POLL * 2);
}

function leaders(f: Fixture): ReplicaNode[] {
  return f.nodes.filter((n) => n.leading());
}

/** Resolves `p` while advancing the clock, failing after `ms` of virtual time. */
async function settle<T>(f: Fixture, p: Promise<T>, ms = TTL * 3): Promise<T> {
  let done = false;
  let value: T | undefined;
  let error: unknown;
  p.then(
    (v) => ((done = true), (value = v)),
    (e: unknown) => ((done = true), (error = e)),
  );
  for (let t = 0; t < ms && !done; t += POLL / 5) await f.clock.advance(POLL / 5);
  assert.ok(done, `did not settle within ${ms} ms of virtual time`);
  if (error !== undefined) throw error;
  return value as T;
}

test('exactly one replica leads, and every live replica acknowledges the fence it publishes', async () => {
  const f = fixture(3);
  await startAll(f);
  assert.equal(leaders(f).length, 1);
  const leader = leaders(f)[0]!;
  await settle(f, leader.fence.acquire());
  assert.equal(leader.fence.held(), true);
  const revision = f.store.ring?.revision ?? 0;
  assert.ok(revision > 0);
  for (const r of f.store.read().replicas) assert.ok(r.acked >= revision, `${r.id} acknowledged ${r.acked} < ${revision}`);
  // Fenced: no follower may write to the shards itself.
  for (const n of f.nodes) if (n !== leader) assert.equal(n.mayWrite(), false);
});

test('after release, followers write directly; a new fence waits until a follower\'s write in flight is answered', async () => {
  const f = fixture(2);
  await startAll(f);
  const leader = leaders(f)[0]!;
  const follower = f.nodes.find((n) => n !== leader)!;
  await settle(f, leader.fence.acquire());
  leader.fence.release();
  await f.clock.advance(POLL * 3);
  assert.equal(follower.mayWrite(), true, 'a settled fleet lets followers push directly');
  const write = follower.writes.enter();
  assert.ok(write !== undefined);
  let held = false;
  void leader.fence.acquire().then(() => (held = true));
  await f.clock.advance(POLL * 6);
  assert.equal(held, false, 'the leader must not hold the fence while a follower write is in flight');
  assert.equal(follower.mayWrite(), false, 'a follower that read the fencing revision forwards new pushes');
  assert.equal(follower.writes.enter(), undefined, 'and lets no new write through at the last moment either');
  write();
  await f.clock.advance(POLL * 3);
  assert.equal(held, true);
});

test('a leader cut off from the store stops leading before the store ends its session; the next leader has a higher term; the deposed one cannot publish', async () => {
  const f = fixture(2);
  await startAll(f);
  const first = leaders(f)[0]!;
  const second = f.nodes.find((n) => n !== first)!;
  await settle(f, first.fence.acquire());
  const firstTerm = first.session.term!;
  f.store.cut(first.session.self.id);
  // Within the TTL the store still has it as leader, yet it no longer acts as one.
  await f.clock.advance(SAFETY * TTL + POLL);
  assert.equal(f.store.leaderNow()?.id, first.session.self.id, 'the store has not ended the session yet');
  assert.equal(first.leading(), false, 'a leader stops before its lease can have lapsed in the store');
  assert.equal(first.fence.held(), false);
  assert.equal(first.mayWrite(), false);
  await f.clock.advance(TTL);
  assert.equal(second.leading(), true);
  assert.ok(second.session.term! > firstTerm);
  f.store.heal(first.session.self.id);
  await assert.rejects(first.session.publish({ members: [], overrides: [], draining: [], discovery: [], direct: true }), /not the leader|deposed/);
  await f.clock.advance(POLL * 4);
  assert.equal(leaders(f).length, 1);
  // At most one leader wrote at any revision, and revisions only grew.
  const revisions = f.store.accepted.map((a) => a.revision);
  assert.deepEqual(revisions, [...revisions].sort((a, b) => a - b));
  assert.equal(new Set(revisions).size, revisions.length);
});

test('a follower whose session lapsed stops writing directly, and writes again only after acknowledging a current ring', async () => {
  const f = fixture(2);
  await startAll(f);
  const leader = leaders(f)[0]!;
  const follower = f.nodes.find((n) => n !== leader)!;
  await settle(f, leader.fence.acquire());
  leader.fence.release();
  await f.clock.advance(POLL * 3);
  assert.equal(follower.mayWrite(), true);
  f.store.cut(follower.session.self.id);
  await f.clock.advance(SAFETY * TTL + POLL);
  assert.equal(follower.mayWrite(), false, 'its session may have ended: the leader no longer waits for it');
  assert.match(follower.notReady() ?? '', /coordination store/);
  f.store.heal(follower.session.self.id);
  await f.clock.advance(POLL * 4);
  assert.equal(follower.mayWrite(), true);
  assert.equal(follower.notReady(), undefined);
});

test('a replica that becomes leader takes over from the last published ring', async () => {
  const f = fixture(2);
  await startAll(f);
  const first = leaders(f)[0]!;
  await settle(f, first.fence.acquire());
  void first.stop();
  await f.clock.advance(TTL + POLL * 4);
  const second = f.nodes.find((n) => n !== first)!;
  assert.equal(second.leading(), true);
  assert.ok(f.events.includes(`${second.session.self.id} took over`));
});
