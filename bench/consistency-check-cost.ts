/**
 * CPU cost of `gateway` mode's check per push, in process: parse the bench
 * push (12 pushed series, 14 stored; workload.ts) and admit it into a
 * FleetIndex already holding G groups, replacing one of them, as every
 * measured push of the load benchmarks does. Also the index's heap per
 * group. Not part of `npm run bench` (yet):
 *
 *   node --expose-gc dist/bench/consistency-check-cost.js [groups=10000] [pushes=50000]
 */
import { FleetIndex } from '../src/index/fleet-index.js';
import { admitPush } from '../src/index/consistency-check.js';
import { parsePush } from '../src/exposition/parse-push.js';
import { type GroupingKey } from '../src/groupingkey/grouping-key.js';
import { PUSH_BODY } from './workload.js';

const groups = Number(process.argv[2] ?? 10_000);
const pushes = Number(process.argv[3] ?? 50_000);
const body = Buffer.from(PUSH_BODY);
const keys: GroupingKey[] = Array.from({ length: groups }, (_, i) => ({ job: 'bench', instance: String(i) }));
const gc = (globalThis as { gc?: () => void }).gc;

gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const index = new FleetIndex();
for (const key of keys) {
  const verdict = admitPush(index, 'PUT', key, parsePush(body, 'text/plain; version=0.0.4'));
  if (!verdict.accepted) throw new Error(verdict.message);
}
gc?.();
const heapPerGroup = (process.memoryUsage().heapUsed - heapBefore) / groups;

const measure = (what: string, fn: (i: number) => void): number => {
  for (let i = 0; i < Math.min(pushes, 5_000); i++) fn(i); // warm-up
  const cpu = process.cpuUsage();
  for (let i = 0; i < pushes; i++) fn(i);
  const used = process.cpuUsage(cpu);
  const micros = (used.user + used.system) / pushes;
  console.log(`${what}: ${micros.toFixed(1)} µs CPU per push`);
  return micros;
};
measure('parse only', () => parsePush(body, undefined));
measure('parse + check + index update (PUT replacing a stored group)', (i) => {
  const verdict = admitPush(index, 'PUT', keys[i % groups] ?? { job: 'bench' }, parsePush(body, undefined));
  if (!verdict.accepted) throw new Error(verdict.message);
});
console.log(`index: ${groups} groups of 14 series, ~${Math.round(heapPerGroup)} bytes of heap per group${gc === undefined ? ' (run with --expose-gc for a cleaner figure)' : ''}`);
