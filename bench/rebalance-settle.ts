/**
 * Suite 4, rebalance settle time (issue 3's figure, issue 4 part 4): with G
 * groups stored on 3 shards behind shardgate, a 4th shard is added by
 * reload; the clock runs from the reload until the fleet is settled: no
 * round in progress, no group waiting to move, and every group stored
 * exactly once (checked on the pushgateways themselves).
 *
 * Pushgateways run with the consistency check off for G = 10,000 (filling
 * one with it on takes minutes, see suite 1); G = 1,000 is measured both
 * ways. Moves are limited by shardgate's default max_moves_per_second (500).
 */
import { join } from 'node:path';
import { mkdir, writeFile } from 'node:fs/promises';
import { type ProcessSet } from './processes.js';
import { prefill, countGroups } from './workload.js';
import { progress, waitUntil } from './progress.js';

export interface RebalanceSettleOptions {
  readonly cases: ReadonlyArray<{ readonly groups: number; readonly consistencyCheck: boolean }>;
  readonly dir: string;
}

export interface RebalanceSettleRun {
  readonly groups: number;
  readonly consistencyCheck: boolean;
  readonly moved: number;
  readonly settleSeconds: number;
  readonly movesPerSecond: number;
  /** Groups on the new shard once settled. */
  readonly onNewShard: number;
  /** Two scraped copies per moved group, from the owner's confirmation to the source's delete (shardgate_rebalance_two_copy_seconds). */
  readonly twoCopy: { readonly meanMs: number; readonly p99UpperMs: number; readonly maxUpperMs: number };
}

export interface RebalanceSettleResult {
  readonly options: RebalanceSettleOptions;
  readonly runs: RebalanceSettleRun[];
  readonly maxMovesPerSecond: number;
}

const MAX_MOVES_PER_SECOND = 500;

export async function runRebalanceSettle(procs: ProcessSet, opts: RebalanceSettleOptions): Promise<RebalanceSettleResult> {
  const runs: RebalanceSettleRun[] = [];
  for (const [i, c] of opts.cases.entries()) {
    const dir = join(opts.dir, `case-${i}`);
    await mkdir(dir, { recursive: true });
    const extra = c.consistencyCheck ? [] : ['--push.disable-consistency-check'];
    const pgs = await Promise.all(['a', 'b', 'c', 'd'].map((n) => procs.pushgateway(`settle-${n}`, join(dir, `${n}.data`), extra)));
    const [a, b, cc, d] = pgs;
    if (!a || !b || !cc || !d) throw new Error('four pushgateways expected');
    const config = (members: string[]): string =>
      `targets: [${members.map((t) => `"${t}"`).join(', ')}]\nhealth_check: { interval: 500ms }\nrebalance: { sweep_interval: 10m, max_moves_per_second: ${MAX_MOVES_PER_SECOND} }\n`;
    const configFile = join(dir, 'shardgate.yml');
    await writeFile(configFile, config([a.target, b.target, cc.target]));
    const sg = await procs.shardgate({ name: `settle-${c.groups}`, args: [`--config.file=${configFile}`, '--web.enable-lifecycle'], expectShards: 3 });
    try {
      progress(`rebalance-settle: pre-filling ${c.groups} groups (consistency check ${c.consistencyCheck ? 'on' : 'off'})`);
      await prefill(sg.url, 0, c.groups, 16);
      const before = await metric(sg.url, 'shardgate_rebalance_groups_moved_total');
      const runsBefore = await metric(sg.url, 'shardgate_rebalance_runs_total');
      await writeFile(configFile, config([a.target, b.target, cc.target, d.target]));
      const t0 = performance.now();
      const reload = await fetch(`${sg.url}/-/reload`, { method: 'POST' });
      if (reload.status !== 200) throw new Error(`reload failed: ${reload.status} ${await reload.text()}`);
      await waitUntil(
        `${c.groups} groups to settle`,
        async () =>
          (await metric(sg.url, 'shardgate_rebalance_runs_total')) > runsBefore &&
          (await metric(sg.url, 'shardgate_rebalance_in_progress')) === 0 &&
          (await metric(sg.url, 'shardgate_rebalance_pending_moves')) === 0,
        600_000,
        50,
      );
      const settleSeconds = (performance.now() - t0) / 1000;
      const counts = await Promise.all(pgs.map((p) => countGroups(p.target)));
      const total = counts.reduce((x, y) => x + y, 0);
      if (total !== c.groups) throw new Error(`after settling ${total} groups are stored, expected ${c.groups} (one copy each)`);
      const moved = (await metric(sg.url, 'shardgate_rebalance_groups_moved_total')) - before;
      const twoCopy = histogramSummary(await (await fetch(`${sg.url}/metrics`)).text(), 'shardgate_rebalance_two_copy_seconds');
      runs.push({ groups: c.groups, consistencyCheck: c.consistencyCheck, moved, settleSeconds, movesPerSecond: moved / settleSeconds, onNewShard: counts[3] ?? 0, twoCopy });
      progress(`rebalance-settle: ${c.groups} groups, ${moved} moved in ${settleSeconds.toFixed(2)} s`);
    } finally {
      await sg.stop();
      await Promise.all(pgs.map((p) => p.stop()));
    }
  }
  return { options: opts, runs, maxMovesPerSecond: MAX_MOVES_PER_SECOND };
}

/** Sum of every sample of `name` on shardgate's /metrics. */
async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/**
 * Mean, and the upper bounds of the buckets holding the 99th percentile and
 * the largest observation, of a prom-client histogram without labels (ms).
 */
function histogramSummary(text: string, name: string): { meanMs: number; p99UpperMs: number; maxUpperMs: number } {
  const buckets: Array<[number, number]> = [];
  let sum = 0;
  let count = 0;
  for (const line of text.split('\n')) {
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    const le = /^\w+_bucket\{le="([^"]+)"\}/.exec(line);
    if (line.startsWith(`${name}_bucket{`) && le?.[1] !== undefined) buckets.push([le[1] === '+Inf' ? Infinity : Number(le[1]), value]);
    else if (line.startsWith(`${name}_sum `)) sum = value;
    else if (line.startsWith(`${name}_count `)) count = value;
  }
  const upper = (q: number): number => (buckets.find(([, c]) => c >= q * count)?.[0] ?? NaN) * 1000;
  return { meanMs: count > 0 ? (sum / count) * 1000 : NaN, p99UpperMs: upper(0.99), maxUpperMs: upper(1) };
}
