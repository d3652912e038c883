/**
 * The source glue's rules (sourced-targets.ts) against the real
 * coordinator, rebalancer and health checks on a manual clock
 * (sourced-world.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StaticSource } from '../../src/membership/sources/static-source.js';
import { FakeSource, HEALTH, world } from './sourced-world.js';

const A = 'a:9091', B = 'b:9091', C = 'c:9091', D = 'd:9091', E = 'e:9091', F = 'f:9091';

test('listed targets join the ring; one that leaves while reachable is drained, kept until drained, then dropped', async () => {
  const w = await world([A, B, C]);
  assert.deepEqual(w.ring(), [A, B, C]);
  const job = w.jobOwnedBy(C);
  w.plant(C, job);
  // A and B refuse writes: C's group cannot move yet, so its drain cannot finish.
  w.refusing.add(A).add(B);
  w.source.answer([A, B]);
  await w.settle();
  assert.deepEqual(w.ring(), [A, B, C], 'nothing happens before remove_after');
  assert.deepEqual(w.glue.status().leaving, [{ target: C, phase: 'pending' }]);
  await w.wait(6000);
  assert.deepEqual(w.ring(), [A, B], 'C is out of the ring');
  assert.deepEqual(w.configured(), [A, B, C], 'but still configured: it holds a group');
  assert.equal(w.coordinator.drainState(C)?.state, 'draining');
  assert.deepEqual(w.glue.status().leaving, [{ target: C, phase: 'draining' }]);
  // Writes succeed again: the group moves, the drain completes, C is dropped.
  w.refusing.clear();
  await w.wait(6000);
  assert.deepEqual(w.configured(), [A, B]);
  assert.deepEqual(w.glue.status().leaving, []);
  assert.deepEqual([...w.jobsOn(A), ...w.jobsOn(B)], [job], 'the group was moved, not lost');
  assert.deepEqual(w.jobsOn(C), []);
  assert.equal(w.logs.filter((l) => l.includes('is drained: dropped')).length, 1);
  w.stop();
});

test('a target that leaves while unreachable is kept (it may hold groups) and dropped only after a long outage, without a drain', async () => {
  const w = await world([A, B, C]);
  w.down.add(C);
  await w.membership.checkAll();
  await w.settle();
  assert.deepEqual(w.ring(), [A, B]);
  w.source.answer([A, B]);
  await w.wait(60_000);
  assert.deepEqual(w.configured(), [A, B, C], 'kept while the outage is short');
  assert.deepEqual(w.glue.status().leaving, [{ target: C, phase: 'unreachable' }]);
  await w.wait(5 * 60_000);
  assert.deepEqual(w.configured(), [A, B]);
  assert.ok(!w.logs.some((l) => l.includes(': draining')), 'no drain was started');
  assert.ok(w.logs.some((l) => l.includes('stayed unreachable: dropped')));
  w.stop();
});

test('an empty answer is ignored: the ring keeps its members and the status says why', async () => {
  const w = await world([A, B]);
  const changes = (await w.metrics.ringChanges.get()).values[0]?.value;
  w.source.answer([]);
  await w.wait(10_000);
  assert.deepEqual(w.ring(), [A, B]);
  assert.deepEqual(w.configured(), [A, B]);
  const st = w.glue.status();
  assert.equal(st.healthy, false);
  assert.match(st.last_error ?? '', /no targets/);
  assert.equal((await w.metrics.ringChanges.get()).values[0]?.value, changes);
  assert.equal((await w.metrics.sourceUp.get()).values.find((v) => v.labels.kind === 'fake')?.value, 0);
  w.source.answer([A, B]);
  assert.equal(w.glue.status().healthy, true);
  assert.equal((await w.metrics.sourceUp.get()).values.find((v) => v.labels.kind === 'fake')?.value, 1);
  w.stop();
});

test('a source that answers with a fraction of the fleet shrinks it gradually: at most max_removal_ratio drains at once, never an empty ring', async () => {
  const w = await world([A, B, C, D, E, F]);
  const jobs = [B, C, D, E, F].map((t) => {
    const job = w.jobOwnedBy(t);
    w.plant(t, job);
    return job;
  });
  for (const t of [A, B, C, D, E, F]) w.refusing.add(t);
  w.source.answer([A]);
  let mostDraining = 0;
  const watch = (): void => {
    const draining = w.glue.status().leaving.filter((l) => l.phase === 'draining').length;
    mostDraining = Math.max(mostDraining, draining);
    assert.ok(w.ring().length >= 1, 'the ring is never empty');
  };
  await w.wait(6000, watch);
  assert.equal(w.glue.status().leaving.filter((l) => l.phase === 'draining').length, 3, 'floor(0.5 × 6) drains at once');
  assert.equal(w.glue.status().leaving.filter((l) => l.phase === 'held').length, 2);
  assert.equal(w.ring().length, 3, 'A and the two held targets');
  // Writes succeed again: drains complete, the held targets follow as others are dropped.
  w.refusing.clear();
  await w.wait(20_000, watch);
  assert.deepEqual(w.configured(), [A]);
  assert.deepEqual(w.ring(), [A]);
  assert.deepEqual(w.jobsOn(A), [...jobs].sort(), 'every group ended on A');
  assert.ok(mostDraining <= 3, `at most 3 drains at once (saw ${mostDraining})`);
  assert.equal(w.logs.filter((l) => l.includes('shrink guard')).length, 2, 'one line per held target, not per poll');
  w.stop();
});

test('a flapping target causes no rebalance: absences shorter than remove_after are ignored', async () => {
  const w = await world([A, B, C]);
  const before = (await w.metrics.ringChanges.get()).values[0]?.value;
  for (let i = 0; i < 10; i++) {
    w.source.answer(i % 2 === 0 ? [A, B] : [A, B, C]);
    await w.wait(2000);
    assert.deepEqual(w.ring(), [A, B, C]);
  }
  assert.equal((await w.metrics.ringChanges.get()).values[0]?.value, before, 'the ring never changed');
  assert.ok(!w.logs.some((l) => l.includes(': draining')));
  w.stop();
});

test('a target that returns while draining is undrained', async () => {
  const w = await world([A, B, C]);
  w.plant(C, w.jobOwnedBy(C));
  w.refusing.add(A).add(B);
  w.source.answer([A, B]);
  await w.wait(6000);
  assert.equal(w.coordinator.drainState(C)?.state, 'draining');
  w.source.answer([A, B, C]);
  await w.settle();
  assert.equal(w.coordinator.drainState(C), null);
  w.refusing.clear();
  await w.wait(2000);
  assert.deepEqual(w.ring(), [A, B, C]);
  assert.deepEqual(w.glue.status().leaving, []);
  w.stop();
});

test('a terminating target is drained at once, without waiting for remove_after', async () => {
  const w = await world([A, B, C]);
  w.plant(C, w.jobOwnedBy(C));
  w.refusing.add(A).add(B);
  w.source.answer([A, B, { address: C, labels: {}, terminating: true }]);
  await w.settle();
  assert.equal(w.coordinator.drainState(C)?.state, 'draining');
  assert.deepEqual(w.ring(), [A, B]);
  assert.equal(w.glue.target(C)?.listed, false);
  w.stop();
});

test('a failing source keeps the last set; the status shows the error; one log line per state change', async () => {
  const w = await world([A, B]);
  for (let i = 0; i < 5; i++) {
    w.source.fail('connection refused');
    await w.wait(1000);
  }
  assert.deepEqual(w.ring(), [A, B]);
  const st = w.glue.status();
  assert.equal(st.healthy, false);
  assert.equal(st.last_error, 'connection refused');
  assert.equal(st.targets, 2);
  assert.equal(w.logs.filter((l) => l.includes('membership source failing')).length, 1);
  w.source.answer([A, B, C]);
  await w.settle();
  assert.deepEqual(w.ring(), [A, B, C]);
  assert.equal(w.logs.filter((l) => l.includes('membership source answers again')).length, 1);
  assert.deepEqual(w.glue.labelsOf(C), { zone: 'a' });
  w.stop();
});

test('the static source replaces the targets at once, as a reload always did', async () => {
  const w = await world([A, B, C]);
  await w.glue.reconfigure(new StaticSource([A]), { removeAfterMs: 5000, maxRemovalRatio: 0.5 }, HEALTH);
  await w.settle();
  assert.deepEqual(w.configured(), [A]);
  assert.deepEqual(w.ring(), [A]);
  assert.equal(w.glue.kind, 'static');
  w.stop();
});

test('a reload that replaces the source: the new one\'s answers rule; targets it does not list leave by the same rules', async () => {
  const w = await world([A, B, C]);
  const next = new FakeSource([A, B]);
  await w.glue.reconfigure(next, { removeAfterMs: 2000, maxRemovalRatio: 0.5 }, HEALTH);
  w.source.answer([D]); // the replaced source's late answer is ignored
  await w.settle();
  assert.deepEqual(w.configured(), [A, B, C]);
  await w.wait(3000);
  assert.deepEqual(w.configured(), [A, B], 'C was drained (empty) and dropped after the new remove_after');
  w.stop();
});
