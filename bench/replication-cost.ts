/**
 * Suite 5, the cost of replication: the same PUT load (workload.ts) through
 * shardgate in front of 2 pushgateways, once without replication and once
 * with 2 standby pushgateways (`replication.enabled: true`), in interleaved
 * rounds. Reports throughput and p99 of each and their ratio (on / off).
 * Every pushgateway runs with `--push.disable-consistency-check`, as in
 * suite 2, so the figures are shardgate's and the extra write's cost.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ProcessSet } from './processes.js';
import { autocannonLoad, type LoadResult, type Timing } from './load.js';
import { PUSH_BODY, PUSH_HEADERS, prefill, pushPaths } from './workload.js';
import { median } from './stats.js';
import { progress } from './progress.js';

export interface ReplicationCostOptions {
  readonly groups: number;
  readonly connections: number;
  readonly rounds: number;
  readonly timing: Timing;
  readonly dir: string;
}

export interface ReplicationCostResult {
  readonly options: Omit<ReplicationCostOptions, 'dir'>;
  readonly off: readonly LoadResult[];
  readonly on: readonly LoadResult[];
  /** Medians over rounds. */
  readonly rpsOff: number;
  readonly rpsOn: number;
  readonly p99OffMs: number;
  readonly p99OnMs: number;
  /** Median of per-round ratios, on / off. */
  readonly rpsRatio: number;
  readonly p99Ratio: number;
}

export async function runReplicationCost(procs: ProcessSet, o: ReplicationCostOptions): Promise<ReplicationCostResult> {
  await mkdir(o.dir, { recursive: true });
  const unchecked = ['--push.disable-consistency-check'];
  const start = (name: string) => procs.pushgateway(name, join(o.dir, `${name}.data`), unchecked);
  const [a, b, sa, sb] = await Promise.all([start('repl-a'), start('repl-b'), start('repl-standby-a'), start('repl-standby-b')]);
  const base = `targets: ["${a.target}", "${b.target}"]\nrebalance: { sweep_interval: 10m }\npush: { consistency_check: off }\n`;
  await writeFile(join(o.dir, 'off.yml'), base);
  await writeFile(join(o.dir, 'on.yml'), `${base}replication: { enabled: true, standby_targets: ["${sa.target}", "${sb.target}"] }\n`);
  const off = await procs.shardgate({ name: 'replication-off', args: [`--config.file=${join(o.dir, 'off.yml')}`], expectShards: 2 });
  const on = await procs.shardgate({ name: 'replication-on', args: [`--config.file=${join(o.dir, 'on.yml')}`], expectShards: 2 });
  progress(`replication-cost: pre-filling ${o.groups} groups through each`);
  await prefill(off.url, 0, o.groups, 16);
  await prefill(on.url, 0, o.groups, 16);
  const paths = pushPaths(o.groups);
  const load = (url: string): Promise<LoadResult> => autocannonLoad({ ...o.timing, url, paths, body: PUSH_BODY, headers: PUSH_HEADERS, connections: o.connections });
  const offRuns: LoadResult[] = [];
  const onRuns: LoadResult[] = [];
  for (let r = 0; r < o.rounds; r++) {
    // Rotating order, so neither always runs on a warmer (or more loaded) machine.
    const order = r % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const);
    for (const which of order) {
      progress(`replication-cost: round ${r + 1}/${o.rounds}, replication ${which}`);
      if (which === 'off') offRuns.push(await load(off.url));
      else onRuns.push(await load(on.url));
    }
  }
  await Promise.all([off.stop(), on.stop(), a.stop(), b.stop(), sa.stop(), sb.stop()]);
  const ratio = (f: (x: LoadResult) => number): number => median(onRuns.map((x, i) => f(x) / f(offRuns[i] ?? x)));
  const { dir: _dir, ...options } = o;
  return {
    options,
    off: offRuns,
    on: onRuns,
    rpsOff: median(offRuns.map((x) => x.rps)),
    rpsOn: median(onRuns.map((x) => x.rps)),
    p99OffMs: median(offRuns.map((x) => x.p99Ms)),
    p99OnMs: median(onRuns.map((x) => x.p99Ms)),
    rpsRatio: ratio((x) => x.rps),
    p99Ratio: ratio((x) => x.p99Ms),
  };
}
