/**
 * The coordination backend contract (src/replicas/coordination-backend.ts)
 * against a real etcd on loopback (test/support/etcd.ts), with a 2 s lease.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdBackend } from '../../src/replicas/etcd-backend.js';
import { startEtcd, type TestEtcd } from '../support/etcd.js';
import { waitFor } from '../support/wait-for.js';
import { type PublishedRing } from '../../src/replicas/published-ring.js';

let etcd: TestEtcd;
let prefixes = 0;

before(async () => {
  etcd = await startEtcd();
});
after(async () => {
  await etcd?.stop();
});

/** Backends for `ids` sharing one fresh prefix (tests do not see each other's keys). */
function backends(...ids: string[]): Array<{ id: string; url: string; b: EtcdBackend }> {
  const prefix = `/test-${++prefixes}/`;
  return ids.map((id) => ({ id, url: `http://${id}`, b: new EtcdBackend({ endpoints: [etcd.endpoint], prefix, ttlMs: 2000 }) }));
}

const ring = (revision: number, leader: string, term: number): PublishedRing => ({ revision, term, leader, members: ['a:1'], overrides: [], draining: [], discovery: [], direct: false });

test('only one of several campaigning replicas leads; the others see it; a live session shows its acknowledged revision', async () => {
  const rs = backends('r1', 'r2', 'r3');
  for (const r of rs) await r.b.heartbeat({ id: r.id, url: r.url, acked: 0 });
  const answers = await Promise.all(rs.map((r) => r.b.campaign({ id: r.id, url: r.url })));
  const leaders = new Set(answers.map((l) => l?.id));
  assert.equal(leaders.size, 1, `every replica sees the same leader: ${[...leaders].join(', ')}`);
  const leader = answers[0]!;
  assert.ok(leader.term > 0);
  await rs[1]!.b.heartbeat({ id: 'r2', url: 'http://r2', acked: 7 });
  const view = await rs[2]!.b.read();
  assert.equal(view.leader?.id, leader.id);
  assert.deepEqual(view.replicas.map((r) => [r.id, r.acked]).sort(), [['r1', 0], ['r2', 7], ['r3', 0]]);
  for (const r of rs) await r.b.close();
});

test('only the leader under its term can publish; a deposed leader cannot, and changes nothing', async () => {
  const [a, b] = backends('a', 'b');
  await a!.b.heartbeat({ id: 'a', url: 'http://a', acked: 0 });
  await b!.b.heartbeat({ id: 'b', url: 'http://b', acked: 0 });
  const first = await a!.b.campaign({ id: 'a', url: 'http://a' });
  assert.equal(first?.id, 'a');
  assert.equal(await a!.b.publish(first!.term, ring(1, 'a', first!.term)), true);
  assert.equal(await b!.b.publish(first!.term, ring(2, 'b', first!.term)), false, 'not the leader: refused even with the right term');
  // a resigns; b takes over with a higher term; a's old term publishes nothing.
  await a!.b.resign(first!.term);
  const second = await b!.b.campaign({ id: 'b', url: 'http://b' });
  assert.equal(second?.id, 'b');
  assert.ok(second!.term > first!.term, `term ${second!.term} after ${first!.term}`);
  assert.equal(await a!.b.publish(first!.term, ring(3, 'a', first!.term)), false);
  assert.equal((await b!.b.read()).ring?.revision, 1, 'the refused publication changed nothing');
  assert.equal(await b!.b.publish(second!.term, ring(4, 'b', second!.term)), true);
  // The same replica winning again gets a new term too.
  await b!.b.resign(second!.term);
  const third = await b!.b.campaign({ id: 'b', url: 'http://b' });
  assert.ok(third!.term > second!.term);
  await a!.b.close();
  await b!.b.close();
});

test('a session that is not renewed ends after its TTL, its leadership with it, and another replica takes over', async () => {
  const [a, b] = backends('a', 'b');
  await a!.b.heartbeat({ id: 'a', url: 'http://a', acked: 0 });
  const held = await a!.b.campaign({ id: 'a', url: 'http://a' });
  assert.equal(held?.id, 'a');
  await b!.b.heartbeat({ id: 'b', url: 'http://b', acked: 0 });
  // a stops renewing; b keeps its own session alive while it waits.
  let taken: Awaited<ReturnType<EtcdBackend['campaign']>>;
  await waitFor(
    async () => {
      await b!.b.heartbeat({ id: 'b', url: 'http://b', acked: 0 });
      taken = await b!.b.campaign({ id: 'b', url: 'http://b' });
      return taken?.id === 'b';
    },
    { timeoutMs: 15_000, intervalMs: 200, what: 'b to take over after a\'s lease expired' },
  );
  assert.ok(taken!.term > held!.term);
  const view = await b!.b.read();
  assert.deepEqual(view.replicas.map((r) => r.id), ['b'], 'a\'s session is gone');
  // a renews again: it gets a new session, and is not the leader.
  await a!.b.heartbeat({ id: 'a', url: 'http://a', acked: 0 });
  assert.equal((await a!.b.campaign({ id: 'a', url: 'http://a' }))?.id, 'b');
  assert.equal(await a!.b.publish(held!.term, ring(9, 'a', held!.term)), false);
  await a!.b.close();
  await b!.b.close();
});

test('an unreachable store makes every call fail, not hang', async () => {
  const [a] = backends('a');
  await a!.b.heartbeat({ id: 'a', url: 'http://a', acked: 0 });
  etcd.pause();
  try {
    const started = Date.now();
    await assert.rejects(a!.b.heartbeat({ id: 'a', url: 'http://a', acked: 0 }), /etcd/);
    await assert.rejects(a!.b.read(), /etcd/);
    assert.ok(Date.now() - started < 15_000);
  } finally {
    etcd.resume();
  }
  const dead = new EtcdBackend({ endpoints: ['http://127.0.0.1:1'], prefix: '/x/', ttlMs: 2000 });
  await assert.rejects(dead.read(), /etcd http:\/\/127.0.0.1:1/);
  await a!.b.close();
});
