/**
 * Replays every seed in regression-seeds.json: each found a defect once and
 * must now keep every invariant. NOTE: these FAIL on the rebalancer of
 * commit 6db194c, the code that had the defects; they are for the rewrite.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { runSeed } from './simulation.js';

interface RegressionSeed {
  readonly seed: number;
  readonly defect: string;
  readonly what: string;
}

// dist/test/simulation/ -> test/simulation/regression-seeds.json
const file = new URL('../../../test/simulation/regression-seeds.json', import.meta.url);
const { seeds } = JSON.parse(readFileSync(file, 'utf8')) as { seeds: RegressionSeed[] };

for (const s of seeds) {
  test(`seed ${s.seed} (defect ${s.defect}) keeps every invariant`, async () => {
    const r = await runSeed(s.seed);
    const v = r.violation;
    assert.equal(v, undefined, v && `${v.invariant} ${v.check} ${v.group ?? ''}: ${v.message}\n  found: ${s.what}\n  replay: npm run simulate -- --seed ${s.seed} --trace\n${r.trace.slice(-25).join('\n')}`);
  });
}
