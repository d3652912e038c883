/**
 * `npm run simulate -- --seeds 100000 [--start S]` runs that many schedules
 * and lists every failing seed with its replay command;
 * `npm run simulate -- --seed N --trace` replays one seed and prints its
 * whole trace. Exit code 1 when any schedule violated an invariant.
 */
import { parseArgs } from 'node:util';
import { runSeed, type RunResult } from './simulation.js';
import { CHECKS, isCheck, type Check } from './invariants.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '1000' },
    start: { type: 'string', default: '1' },
    seed: { type: 'string' },
    trace: { type: 'boolean', default: false },
    'stop-after': { type: 'string' },
    ignore: { type: 'string', default: '' },
    // Several replicas (replicated-system.ts): `--replicas 3`, and `--control` for replicas that decide alone.
    replicas: { type: 'string' },
    control: { type: 'boolean', default: false },
  },
});
const replicas = values.replicas === undefined ? undefined : { count: Number(values.replicas), coordinated: !values.control };

/** `--ignore drained-in-discovery,lost-write` sets known defects aside. */
const ignore = new Set<Check>();
for (const name of values.ignore.split(',').filter((c) => c !== '')) {
  if (!isCheck(name)) throw new Error(`--ignore: unknown check ${name}; known: ${CHECKS.join(', ')}`);
  ignore.add(name);
}

function report(r: RunResult, full: boolean): void {
  const v = r.violation;
  if (v === undefined) return;
  process.stdout.write(`\nseed ${r.seed}: ${v.invariant} ${v.check}${v.group ? ` ${v.group}` : ''}: ${v.message}\n`);
  if (full) process.stdout.write(`${r.trace.map((l) => `  ${l}`).join('\n')}\n`);
  process.stdout.write(`  replay: npm run simulate -- --seed ${r.seed} --trace${replicas ? ` --replicas ${replicas.count}${replicas.coordinated ? '' : ' --control'}` : ''}\n`);
}

async function main(): Promise<number> {
  if (values.seed !== undefined) {
    const r = await runSeed(Number(values.seed), { traceAll: values.trace, ignore, ...(replicas ? { replicas } : {}) });
    if (values.trace && r.violation === undefined) process.stdout.write(`${r.trace.join('\n')}\n`);
    report(r, true);
    process.stdout.write(`seed ${r.seed}: ${r.violation ? 'VIOLATION' : 'ok'}; ${r.events} events, ${(r.virtualMs / 1000).toFixed(1)} s virtual, trace ${r.traceHash}, longest two-copy window ${(r.longestTwoCopyMs / 1000).toFixed(1)} s\n`);
    return r.violation ? 1 : 0;
  }
  const count = Number(values.seeds);
  const start = Number(values.start);
  const stopAfter = values['stop-after'] === undefined ? Infinity : Number(values['stop-after']);
  const failed: RunResult[] = [];
  const started = performance.now();
  let events = 0;
  let longest = 0;
  let ran = 0;
  for (let seed = start; seed < start + count && failed.length < stopAfter; seed++) {
    const r = await runSeed(seed, { ignore, ...(replicas ? { replicas } : {}) });
    ran++;
    events += r.events;
    longest = Math.max(longest, r.longestTwoCopyMs);
    if (r.violation) {
      failed.push(r);
      report(r, false);
    }
    if (ran % 500 === 0) process.stdout.write(`.. ${ran}/${count} schedules, ${failed.length} violations, ${(ran / ((performance.now() - started) / 1000)).toFixed(0)}/s\n`);
  }
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`\n${ran} schedules, ${failed.length} violations (${seconds.toFixed(1)} s, ${(ran / seconds).toFixed(0)} schedules/s, ${events} events; longest two-copy window ${(longest / 1000).toFixed(1)} s)\n`);
  for (const r of failed) process.stdout.write(`  seed ${r.seed} ${r.violation?.invariant ?? ''}: npm run simulate -- --seed ${r.seed} --trace\n`);
  return failed.length > 0 ? 1 : 0;
}

process.exitCode = await main();
