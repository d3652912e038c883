/**
 * Suite 1, scale-out on one box: push throughput and latency with G groups
 * already stored, pushgateway's consistency check ON, for one pushgateway
 * pushed directly and for `shardgate local --shards=N`.
 *
 * All subjects run at once (an idle one costs nothing) and grow stage by
 * stage (G = 100, 1,000, 10,000). At each stage every subject is measured
 * in interleaved rounds, in a rotating order, so a burst of other work on
 * the machine hits one round, not one configuration; figures are medians
 * over rounds, ratios medians of per-round ratios. After each run the
 * subject is given time to finish the requests autocannon abandoned.
 *
 * Groups are pre-filled through the thing under test. With the check on a
 * push costs time linear in everything stored, so filling one pushgateway
 * costs ~G²: stages above `checkOnPrefillMaxGroups` are filled with the
 * check off and the pushgateways then restarted with the check on from the
 * same persistence files (see scale-out-subjects.ts); every measurement is
 * preceded by checking /api/v1/status of each pushgateway and the group count.
 */
import { join } from 'node:path';
import { type ProcessSet } from './processes.js';
import { autocannonLoad, type LoadResult, type Timing } from './load.js';
import { PUSH_BODY, PUSH_HEADERS, consistencyCheckOn, countGroups, prefill, pushPaths } from './workload.js';
import { check, type TargetCheck } from './targets.js';
import { delay, progress } from './progress.js';
import { cpuSeconds, totalCpuSeconds } from './proc-stats.js';
import { median, rotate, round } from './stats.js';
import { shardedSubject, singleSubject, type Subject } from './scale-out-subjects.js';

export interface ScaleOutOptions {
  readonly groups: readonly number[];
  readonly shardCounts: readonly number[];
  readonly connections: number;
  readonly rounds: number;
  readonly timing: Timing;
  readonly prefillConcurrency: number;
  readonly checkOnPrefillMaxGroups: number;
  readonly dir: string;
  /** Write a V8 CPU profile of the shardgate with the most shards into this directory. */
  readonly profileDir?: string;
}

export type PrefillMethod = 'check on, through the subject' | 'check off through the subject, then restarted with the check on';

export interface Prefill {
  readonly method: PrefillMethod;
  readonly fromGroups: number;
  readonly seconds: number;
  readonly restartSeconds: number;
}

export interface ScaleOutRun {
  readonly round: number;
  readonly load: LoadResult;
  /** CPU used during the window, % of one core: all pushgateways together, and shardgate itself. */
  readonly cpuPercent: { readonly pushgateways: number; readonly shardgate: number | null };
}

export interface ScaleOutCell {
  readonly config: string;
  readonly shards: number;
  readonly groups: number;
  readonly prefill: Prefill;
  /** Groups stored per pushgateway before the measurement (sum = groups). */
  readonly storedPerShard: readonly number[];
  /** Medians over rounds (responses, errors, non2xx: sums). */
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly responses: number;
  readonly errors: number;
  readonly non2xx: number;
  readonly cpuPercent: { readonly pushgateways: number; readonly shardgate: number | null };
  /** Median over rounds of rps / rps of the single pushgateway in the same round. */
  readonly ratioToSingle: number | null;
  readonly runs: readonly ScaleOutRun[];
}

export interface ScaleOutResult {
  readonly options: Omit<ScaleOutOptions, 'dir' | 'profileDir'>;
  readonly cells: readonly ScaleOutCell[];
  /** Check-on prefill time of one pushgateway from the largest check-on stage to the largest G, estimated from measured rates. */
  readonly estimatedSingleCheckOnPrefillSeconds: { readonly fromGroups: number; readonly toGroups: number; readonly seconds: number } | null;
  readonly checks: readonly TargetCheck[];
}

export const SCALE_OUT_TARGET = { groups: 1000, shards: 8, ratio: 8 } as const;

export async function runScaleOut(procs: ProcessSet, opts: ScaleOutOptions): Promise<ScaleOutResult> {
  const subjects: Subject[] = [];
  const cells: ScaleOutCell[] = [];
  try {
    subjects.push(await singleSubject(procs, join(opts.dir, 'single')));
    for (const n of opts.shardCounts) {
      const profile = opts.profileDir !== undefined && n === Math.max(...opts.shardCounts) ? ['--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`] : [];
      subjects.push(await shardedSubject(procs, join(opts.dir, `shards-${n}`), n, profile));
    }
    let stored = 0;
    for (const [stage, groups] of opts.groups.entries()) {
      const prepared = new Map<Subject, { prefill: Prefill; storedPerShard: number[] }>();
      for (const s of subjects) prepared.set(s, await prepare(s, stored, groups, opts));
      const runs = new Map<Subject, ScaleOutRun[]>(subjects.map((s) => [s, []]));
      for (let r = 1; r <= opts.rounds; r++) {
        for (const s of rotate(subjects, stage + r - 1)) runs.get(s)?.push(await measure(s, groups, r, opts));
      }
      const singleRuns = runs.get(subjects[0] as Subject) ?? [];
      for (const s of subjects) {
        const p = prepared.get(s);
        if (p) cells.push(cell(s, groups, p.prefill, p.storedPerShard, runs.get(s) ?? [], singleRuns));
      }
      stored = groups;
    }
  } finally {
    await Promise.allSettled(subjects.map((s) => s.stop()));
  }
  const checks: TargetCheck[] = [];
  const t = cells.find((c) => c.shards === SCALE_OUT_TARGET.shards && c.groups === SCALE_OUT_TARGET.groups);
  if (t) {
    const ratio = t.ratioToSingle ?? 0;
    checks.push(check(`shards=${t.shards} / single, ${t.groups.toLocaleString('en')} groups stored (median of per-round ratios)`, `≥ ${SCALE_OUT_TARGET.ratio}×`, `${ratio.toFixed(2)}×`, ratio >= SCALE_OUT_TARGET.ratio));
  }
  const { dir: _dir, profileDir: _profileDir, ...options } = opts;
  return { options, cells, estimatedSingleCheckOnPrefillSeconds: estimatePrefill(cells, opts), checks };
}

/** Grows `subject` from `stored` to `groups` groups and checks the result. */
async function prepare(subject: Subject, stored: number, groups: number, opts: ScaleOutOptions): Promise<{ prefill: Prefill; storedPerShard: number[] }> {
  const checkOn = groups <= opts.checkOnPrefillMaxGroups;
  let restartSeconds = 0;
  const restart = async (on: boolean): Promise<void> => {
    const t0 = performance.now();
    await subject.setCheck(on);
    restartSeconds += (performance.now() - t0) / 1000;
  };
  if (!checkOn) await restart(false);
  const seconds = await prefill(subject.url, stored, groups, opts.prefillConcurrency);
  if (!checkOn) await restart(true);
  const targets = await subject.targets();
  for (const t of targets) if (!(await consistencyCheckOn(t))) throw new Error(`${subject.name}: ${t} runs without the consistency check`);
  const storedPerShard = await Promise.all(targets.map(countGroups));
  const total = storedPerShard.reduce((a, b) => a + b, 0);
  if (total !== groups) throw new Error(`${subject.name}: expected ${groups} groups stored, found ${total} (${storedPerShard.join(', ')})`);
  progress(`scale-out ${subject.name}: ${stored}→${groups} groups (check ${checkOn ? 'on' : 'off'}) in ${seconds.toFixed(1)} s${restartSeconds > 0 ? `, restarts ${restartSeconds.toFixed(1)} s` : ''}`);
  const method: PrefillMethod = checkOn ? 'check on, through the subject' : 'check off through the subject, then restarted with the check on';
  return { prefill: { method, fromGroups: stored, seconds: round(seconds, 2), restartSeconds: round(restartSeconds, 2) }, storedPerShard };
}

async function measure(subject: Subject, groups: number, roundNo: number, opts: ScaleOutOptions): Promise<ScaleOutRun> {
  const cpu = { pg: 0, sg: 0 };
  const sample = (sign: 1 | -1): void => {
    const p = subject.pids();
    cpu.pg += sign * totalCpuSeconds(p.pushgateways);
    cpu.sg += sign * (p.shardgate === undefined ? 0 : (cpuSeconds(p.shardgate) ?? 0));
  };
  const load = await autocannonLoad({
    url: subject.url,
    paths: pushPaths(groups),
    body: PUSH_BODY,
    headers: PUSH_HEADERS,
    connections: opts.connections,
    ...opts.timing,
    hooks: { onStart: () => sample(-1), onEnd: () => sample(1) },
  });
  const cpuPercent = {
    pushgateways: round((cpu.pg / load.windowSeconds) * 100, 1),
    shardgate: subject.pids().shardgate === undefined ? null : round((cpu.sg / load.windowSeconds) * 100, 1),
  };
  progress(`scale-out G=${groups} round ${roundNo} ${subject.name}: ${load.rps} req/s, p50 ${load.p50Ms} ms, p99 ${load.p99Ms} ms, n=${load.responses}, errors ${load.errors}, non-2xx ${load.non2xx}; CPU pushgateways ${cpuPercent.pushgateways}%${cpuPercent.shardgate === null ? '' : `, shardgate ${cpuPercent.shardgate}%`}`);
  // Requests in flight when autocannon stopped are still queued in the pushgateways: let them finish.
  await delay(Math.min(15_000, Math.max(200, load.maxMs * 1.2)));
  return { round: roundNo, load, cpuPercent };
}

function cell(s: Subject, groups: number, prefillInfo: Prefill, storedPerShard: number[], runs: readonly ScaleOutRun[], singleRuns: readonly ScaleOutRun[]): ScaleOutCell {
  const ratios = runs.flatMap((r) => {
    const single = singleRuns.find((x) => x.round === r.round);
    return single && single.load.rps > 0 ? [r.load.rps / single.load.rps] : [];
  });
  const sg = runs.map((r) => r.cpuPercent.shardgate);
  return {
    config: s.name,
    shards: s.shards,
    groups,
    prefill: prefillInfo,
    storedPerShard,
    rps: round(median(runs.map((r) => r.load.rps)), 1),
    p50Ms: round(median(runs.map((r) => r.load.p50Ms)), 3),
    p99Ms: round(median(runs.map((r) => r.load.p99Ms)), 3),
    responses: runs.reduce((a, r) => a + r.load.responses, 0),
    errors: runs.reduce((a, r) => a + r.load.errors, 0),
    non2xx: runs.reduce((a, r) => a + r.load.non2xx, 0),
    cpuPercent: {
      pushgateways: round(median(runs.map((r) => r.cpuPercent.pushgateways)), 1),
      shardgate: sg.some((x) => x === null) ? null : round(median(sg as number[]), 1),
    },
    ratioToSingle: ratios.length === 0 ? null : round(median(ratios), 2),
    runs,
  };
}

/** Trapezoid over per-push time, assumed linear in groups stored between two measured stages. */
function estimatePrefill(cells: readonly ScaleOutCell[], opts: ScaleOutOptions): ScaleOutResult['estimatedSingleCheckOnPrefillSeconds'] {
  const from = Math.max(...opts.groups.filter((g) => g <= opts.checkOnPrefillMaxGroups));
  const to = Math.max(...opts.groups);
  if (to <= from) return null;
  const a = cells.find((c) => c.shards === 1 && c.groups === from);
  const b = cells.find((c) => c.shards === 1 && c.groups === to);
  if (!a || !b || a.rps <= 0 || b.rps <= 0) return null;
  return { fromGroups: from, toGroups: to, seconds: round(((to - from) * (1 / a.rps + 1 / b.rps)) / 2, 0) };
}
