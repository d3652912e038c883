/**
 * The simulation with targets from a misbehaving membership source
 * (sim-source.ts) through the source glue, as main.ts wires file_sd or DNS:
 * around every reload and in bursts during the run the source answers with
 * nothing, with one target, with one target missing (flapping), with
 * terminating targets, or fails, before telling the truth again. Every
 * invariant must hold, as in simulation.test.ts, with no open seeds.
 *
 * Found while building it, both fixed: a target dropped while unreachable
 * lost what the ledger knew about it, so its old copies won when the source
 * listed it again; and a round that began before a drain reported the shard
 * "drained" from a read taken while pushes still went there, so the glue
 * dropped a shard that held groups.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSeed } from './simulation.js';

const COUNT = 200;

test(`${COUNT} schedules with a misbehaving membership source keep every invariant`, async () => {
  const failures: string[] = [];
  for (let seed = 1; seed <= COUNT; seed++) {
    const r = await runSeed(seed, { source: { removeAfterMs: 10_000, maxRemovalRatio: 0.5 } });
    if (r.violation) failures.push(`seed ${seed}: ${r.violation.invariant} ${r.violation.check} ${r.violation.message.slice(0, 200)}`);
  }
  assert.deepEqual(failures, [], 'replay one with runSeed(seed, { traceAll: true, source: {...} })');
});
