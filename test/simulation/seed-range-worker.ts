/**
 * Runs every `stride`-th seed of a range in a worker thread and posts the
 * one-line reports of the violations: the CI test splits its range over
 * the machine's cores with it. Each worker is its own deterministic world.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runSeed } from './simulation.js';

export interface SeedRange {
  readonly first: number;
  readonly count: number;
  readonly offset: number;
  readonly stride: number;
}

function seedRange(data: unknown): SeedRange {
  const d = (data ?? {}) as Record<string, unknown>;
  const n = (k: string): number => {
    const v = d[k];
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new Error(`seed range: ${k} must be an integer`);
    return v;
  };
  return { first: n('first'), count: n('count'), offset: n('offset'), stride: n('stride') };
}

const range = seedRange(workerData);
const failures: string[] = [];
for (let seed = range.first + range.offset; seed < range.first + range.count; seed += range.stride) {
  const r = await runSeed(seed);
  const v = r.violation;
  if (v) failures.push(`seed ${seed}: ${v.invariant} ${v.check} ${v.group ?? ''} ${v.message.slice(0, 200)}`);
}
parentPort?.postMessage(failures);
