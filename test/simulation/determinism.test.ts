import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSeed } from './simulation.js';

// The whole point of the simulation: a seed replays exactly. Two runs of one
// seed must produce the same trace (every network call, client outcome,
// fleet event, ring change and log line, in order), hence the same hash.
test('the same seed gives the identical trace', async () => {
  for (const seed of [7, 46, 82]) {
    const a = await runSeed(seed);
    const b = await runSeed(seed);
    assert.equal(a.traceHash, b.traceHash, `seed ${seed}: traces differ`);
    assert.equal(a.events, b.events);
    assert.equal(a.virtualMs, b.virtualMs);
    assert.deepEqual(a.violation, b.violation);
  }
});

test('different seeds give different schedules', async () => {
  const a = await runSeed(11);
  const b = await runSeed(12);
  assert.notEqual(a.traceHash, b.traceHash);
});
