/**
 * Results as markdown tables (for people) and JSON (every raw figure), both
 * written atomically: a reader never sees half a file.
 */
import { rename, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type MachineInfo } from './machine.js';
import { type ScaleOutResult } from './scale-out.js';
import { type GatewayCostResult, type GatewaySummary } from './gateway-cost.js';
import { type RingQualityResult } from './ring-quality.js';
import { type RebalanceSettleResult } from './rebalance-settle.js';
import { type ReplicationCostResult } from './replication-cost.js';
import { type ProfileSummary } from './profile-summary.js';
import { type TargetCheck, verdict } from './targets.js';
import { SERIES_PER_GROUP } from './workload.js';

export interface BenchReport {
  readonly kind: 'full' | 'quick';
  readonly suitesRun: readonly string[];
  readonly startedAt: string;
  readonly durationSeconds: number;
  readonly suiteSeconds: Readonly<Record<string, number>>;
  readonly machine: MachineInfo;
  /** 1-minute load average when the run started and ended: other work on the machine skews results. */
  readonly loadAverage: { readonly atStart: number; readonly atEnd: number };
  readonly scaleOut?: ScaleOutResult;
  readonly gatewayCost?: GatewayCostResult;
  readonly ringQuality?: RingQualityResult;
  readonly rebalanceSettle?: RebalanceSettleResult;
  readonly replicationCost?: ReplicationCostResult;
  /** With --profile: CPU profiles of shardgate, by what was profiled. */
  readonly profiles?: readonly { readonly name: string; readonly file: string; readonly summary: ProfileSummary }[];
}

export async function writeReport(dir: string, basename: string, report: BenchReport): Promise<{ md: string; json: string }> {
  await mkdir(dir, { recursive: true });
  const md = join(dir, `${basename}.md`);
  const json = join(dir, `${basename}.json`);
  await atomicWrite(json, `${JSON.stringify(report, null, 2)}\n`);
  await atomicWrite(md, renderMarkdown(report));
  return { md, json };
}

async function atomicWrite(path: string, text: string): Promise<void> {
  await writeFile(`${path}.tmp`, text);
  await rename(`${path}.tmp`, path);
}

export function allChecks(r: BenchReport): { suite: string; check: TargetCheck }[] {
  const tag = (suite: string, checks: readonly TargetCheck[] | undefined) => (checks ?? []).map((check) => ({ suite, check }));
  return [...tag('1 scale-out', r.scaleOut?.checks), ...tag('2 gateway cost', r.gatewayCost?.checks), ...tag('3 ring quality', r.ringQuality?.checks)];
}

export function renderMarkdown(r: BenchReport): string {
  const m = r.machine;
  const out: string[] = [
    '# shardgate benchmarks',
    '',
    `${r.kind === 'quick' ? '**Quick run** (`--quick`: smaller, shorter; for development only)' : 'Full run'} of \`npm run bench\`, started ${r.startedAt}, took ${fmtSeconds(r.durationSeconds)} (${Object.entries(r.suiteSeconds).map(([s, t]) => `${s} ${fmtSeconds(t)}`).join(', ')}).`,
    '',
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${(m.memTotalBytes / 2 ** 30).toFixed(1)} GiB, Linux ${m.kernel}; Node ${m.node}; ${m.pushgateway}; nginx ${m.nginx}; autocannon ${m.autocannon}; shardgate ${m.shardgate} (git ${m.git}). Everything on loopback, on this one machine: load generator, gateways and pushgateways share its cores, so absolute figures are low; the ratios are what matter. 1-minute load average at start ${r.loadAverage.atStart.toFixed(2)}, at end ${r.loadAverage.atEnd.toFixed(2)} (anything else running on the machine skews the figures).`,
    '',
    '## Targets',
    '',
    table(['suite', 'what', 'target', 'observed', 'result'], allChecks(r).map(({ suite, check: c }) => [suite, c.name, c.target, c.observed, verdict(c.met)])),
  ];
  if (r.scaleOut) out.push(...scaleOutSection(r.scaleOut, m.cores));
  if (r.gatewayCost) out.push(...gatewaySection(r.gatewayCost));
  if (r.ringQuality) out.push(...ringSection(r.ringQuality));
  out.push(...(r.rebalanceSettle ? settleSection(r.rebalanceSettle) : ['', '## 4. Rebalance settle time', '', 'Not run.']));
  if (r.replicationCost) out.push(...replicationSection(r.replicationCost));
  for (const p of r.profiles ?? []) out.push(...profileSection(p.name, p.file, p.summary));
  return `${out.join('\n')}\n`;
}

function scaleOutSection(s: ScaleOutResult, cores: number): string[] {
  const o = s.options;
  const est = s.estimatedSingleCheckOnPrefillSeconds;
  const fast = s.cells.filter((c) => c.prefill.method !== 'check on, through the subject');
  const rows = [...s.cells]
    .sort((a, b) => a.groups - b.groups || a.shards - b.shards)
    .map((c) => [
      fmtInt(c.groups),
      c.config,
      fmtNum(c.rps),
      c.ratioToSingle === null ? '–' : `${c.ratioToSingle.toFixed(2)}×`,
      fmtMs(c.p50Ms),
      fmtMs(c.p99Ms),
      fmtInt(c.responses),
      `${c.errors} / ${c.non2xx}`,
      `${c.cpuPercent.pushgateways.toFixed(0)}%${c.cpuPercent.shardgate === null ? '' : ` + ${c.cpuPercent.shardgate.toFixed(0)}%`}`,
      `${fmtInt(c.prefill.fromGroups)}→${fmtInt(c.groups)}: ${c.prefill.seconds.toFixed(1)} s${c.prefill.restartSeconds > 0 ? ` with the check off, + ${c.prefill.restartSeconds.toFixed(1)} s restarts` : ''}`,
    ]);
  return [
    '',
    '## 1. Scale-out on one box (consistency check on)',
    '',
    `PUT of one group (3 counters, 1 gauge, 1 histogram with 5 buckets: ${SERIES_PER_GROUP} series stored per group) to \`/metrics/job/bench/instance/<i>\`, i cycling over the G stored groups, so every push replaces a group; ${o.connections} autocannon connections, ${o.timing.warmupSeconds} s warm-up then ${o.timing.durationSeconds} s measured in the same run. All configurations run at once and are measured in ${o.rounds} interleaved round(s) per G (rotating order); figures are medians over rounds (responses: total), "× single" is the median of per-round ratios. Every pushgateway runs with its default consistency check on (checked via /api/v1/status before each measurement), and the group count is checked to be exactly G. shardgate local runs its default configuration except \`rebalance.sweep_interval: 10m\`, so an idle fleet does not read all its groups while another configuration is measured.`,
    '',
    `Pre-fill, with ${o.prefillConcurrency} concurrent pushes through the thing under test: up to ${fmtInt(o.checkOnPrefillMaxGroups)} groups with the check on (the time is in the table). ${fast.length > 0 ? `Larger G would not fit the time budget with the check on${est ? ` (one pushgateway ${fmtInt(est.fromGroups)}→${fmtInt(est.toGroups)}: ~${fmtSeconds(est.seconds)}, estimated from the measured push rates)` : ''}, so those stages are pre-filled through the same subject with the pushgateways started with \`--push.disable-consistency-check\`, which are then stopped (persisting) and restarted with the check on from the same persistence files. For \`shardgate local\` this is done without changing shardgate: \`--pushgateway.binary\` is a wrapper script that adds the flag while a flag file exists, and each child is restarted by SIGTERM (the fleet supervisor brings it back on the same port and file).` : ''}`,
    '',
    table(['G stored', 'configuration', 'req/s', '× single', 'p50 ms', 'p99 ms', 'responses', 'errors / non-2xx', 'CPU: pushgateways + shardgate', 'pre-fill (once per G)'], rows),
    '',
    ...s.checks.map((c) => `Target: ${c.name} ${c.target}: ${c.observed}, **${verdict(c.met)}**.`),
    '',
    `Latency here is closed-loop: with every connection busy it is mostly queueing (≈ connections / throughput). CPU is the CPU time used during the window by all pushgateways together and by shardgate, in % of one core (the machine has ${cores} cores in all, shared with the load generator).`,
  ];
}

function gatewaySection(g: GatewayCostResult): string[] {
  const nginxPeak = g.summary.find((r) => r.config === 'nginx' && r.load === 'peak' && r.note === undefined)?.rps;
  const directHalf = g.summary.find((r) => r.config === 'direct' && r.load === 'half' && r.note === undefined)?.p99Ms;
  const label = (r: GatewaySummary): string => (r.note ? `${r.config} (${r.note})` : r.config);
  const peak = g.summary
    .filter((r) => r.load === 'peak')
    .map((r) => [
      label(r),
      String(r.rounds),
      fmtNum(r.rps),
      nginxPeak && r.note === undefined ? `${(r.rps / nginxPeak).toFixed(2)}×` : '–',
      fmtMs(r.p50Ms),
      fmtMs(r.p99Ms),
      r.proxyCpuPercent === null ? '–' : `${r.proxyCpuPercent.toFixed(0)}%`,
      r.proxyCpuUsPerRequest === null ? '–' : r.proxyCpuUsPerRequest.toFixed(0),
      `${r.errors} / ${r.non2xx}`,
    ]);
  const half = g.summary
    .filter((r) => r.load === 'half')
    .map((r) => [
      label(r),
      String(r.rounds),
      fmtNum(r.rps),
      fmtMs(r.p50Ms),
      fmtMs(r.p99Ms),
      directHalf === undefined || (r.config === 'direct' && r.note === undefined) ? '–' : (r.p99Ms - directHalf).toFixed(2),
      r.proxyCpuUsPerRequest === null ? '–' : r.proxyCpuUsPerRequest.toFixed(0),
      `${r.errors} / ${r.non2xx}`,
    ]);
  const mb = (b: number | null): string => (b === null ? 'n/a' : `${(b / 2 ** 20).toFixed(1)} MB`);
  const o = g.options;
  return [
    '',
    '## 2. Cost of the gateway (pushgateways with the consistency check off)',
    '',
    `Two pushgateways started with \`--push.disable-consistency-check\`. Before the measurements all ${fmtInt(o.groups)} groups are pushed once through each configuration, so every measured push replaces a stored group. Same push as in suite 1; ${o.connections} connections; each run ${o.timing.warmupSeconds} s warm-up + ${o.timing.durationSeconds} s measured. Direct pushes all go to one pushgateway. nginx: one worker, \`hash $request_uri consistent\`, upstream keep-alive. shardgate: one Node process, default configuration apart from \`targets: [a, b]\`, \`mode\` and \`rebalance.sweep_interval: 10m\` (no sweep in the middle of a measurement; the rebalancer is on and its start-up round runs). ${g.pinning.proxyCpus ? `nginx and shardgate are pinned to the same single CPU (${g.pinning.proxyCpus}), the load generator to CPU ${g.pinning.loadGeneratorCpus}; pushgateways are not pinned.` : 'Nothing is pinned (fewer than 2 CPUs).'} Direct, nginx and shardgate proxy are measured in ${o.rounds} interleaved round(s) (rotating order); figures are medians over rounds, and the target ratios are medians of per-round ratios. Redirect mode (one round) is measured two ways: autocannon counting the 307 answer alone (autocannon does not follow redirects), and an undici client that follows the 307 and re-sends the body to the owner (the whole client round trip), next to the same undici client pushing directly. "proxy CPU" is the CPU time of the proxy's processes during the window (100% = one core).`,
    '',
    'Peak (closed loop):',
    '',
    table(['configuration', 'rounds', 'req/s', '× nginx', 'p50 ms', 'p99 ms', 'proxy CPU', 'proxy CPU µs/req', 'errors / non-2xx'], peak),
    '',
    `Half load: ${fmtNum(g.halfLoadRps)} req/s offered to each (half of shardgate proxy's median peak), evenly paced by an undici client, latency from each request's scheduled start. (autocannon's \`overallRate\` is not used: it sends each connection's per-second quota back to back, so "half load" would be full load half of the time.)`,
    '',
    table(['configuration', 'rounds', 'achieved req/s', 'p50 ms', 'p99 ms', 'p99 added vs direct, ms', 'proxy CPU µs/req', 'errors / non-2xx'], half),
    '',
    `Peak RSS (VmHWM) of shardgate, once ready (after its start-up rebalance round) → after all its runs: proxy ${mb(g.peakRssBytes.proxyAtStart)} → ${mb(g.peakRssBytes.proxy)}, redirect ${mb(g.peakRssBytes.redirectAtStart)} → ${mb(g.peakRssBytes.redirect)}.`,
    '',
    ...g.checks.map((c) => `Target: ${c.name} ${c.target}: ${c.observed}, **${verdict(c.met)}**.`),
  ];
}

function ringSection(q: RingQualityResult): string[] {
  const rows = q.rows.map((r) => [
    String(r.shards),
    fmtInt(r.keys),
    `${r.maxOverMean.toFixed(4)} (${fmtInt(r.minLoad)}–${fmtInt(r.maxLoad)})`,
    `${pct(r.join.worstFraction)} / ${pct(r.join.idealFraction)} = ${r.join.worstOverIdeal.toFixed(3)}×`,
    `${pct(r.leave.worstFraction)} / ${pct(r.leave.idealFraction)} = ${r.leave.worstOverIdeal.toFixed(3)}×`,
    String(r.join.strayMoves + r.leave.strayMoves),
    `${r.lookupNs.toFixed(0)} (${r.shardKeyNs.toFixed(0)} + ${r.ownerNs.toFixed(0)})`,
  ]);
  return [
    '',
    '## 3. Ring quality (in-process: `buildRing` + `shardKey`)',
    '',
    `${fmtInt(q.options.keys)} grouping keys \`{job="batch_job_<i mod 997>", instance="10.a.b.c:9100"}\`. Movement: worst of ${q.rows[0]?.join.trials ?? 0} joins of a new shard (ideal 1/(n+1)) and of up to 3 leaves (ideal 1/n, the busiest shard among them); "stray" counts keys that moved between two shards that neither joined nor left. Lookup: ns per key over ${fmtInt(q.options.lookupKeys)} prebuilt keys, median of 5 rounds of ${q.options.lookupPasses} passes, after 3 warm-up passes.`,
    '',
    table(['shards', 'keys', 'max/mean (min–max keys)', 'join: moved / ideal', 'leave: moved / ideal', 'stray moves', 'lookup ns (shardKey + owner)'], rows),
    '',
    ...q.checks.map((c) => `Target: ${c.name} ${c.target}: ${c.observed}, **${verdict(c.met)}**.`),
  ];
}

function profileSection(name: string, file: string, p: ProfileSummary): string[] {
  return [
    '',
    `## Profile: ${name}`,
    '',
    `V8 CPU profile (\`node --cpu-prof\`, kept as bench/results/${file}, ignored by git): ${fmtInt(p.totalMs)} ms sampled, ${fmtInt(p.busyMs)} ms not idle; self time as a share of the busy time. Profiling slows shardgate down, so the figures of a --profile run are not comparable with a normal run.`,
    '',
    table(['self %', 'function', 'where'], p.top.map((t) => [`${t.percent.toFixed(1)}%`, t.name, t.where])),
    '',
    table(['self %', 'origin'], p.byOrigin.slice(0, 10).map((o) => [`${o.percent.toFixed(1)}%`, o.origin])),
  ];
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

const fmtInt = (n: number): string => Math.round(n).toLocaleString('en');
const fmtNum = (n: number): string => (n >= 100 ? fmtInt(n) : n.toFixed(1));
const fmtMs = (n: number): string => (Number.isNaN(n) ? '–' : n >= 100 ? fmtInt(n) : n.toFixed(2));
const pct = (f: number): string => `${(f * 100).toFixed(2)}%`;

function fmtSeconds(s: number): string {
  return s >= 90 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${s.toFixed(1)} s`;
}

function settleSection(s: RebalanceSettleResult): string[] {
  return [
    '',
    '## 4. Rebalance settle time',
    '',
    `G groups pushed through shardgate onto 3 pushgateways; then a 4th is added by reload. Settle time runs from the reload to the moment no rebalance round is in progress, no group waits to move, and every group is stored exactly once (counted on the pushgateways). Moves are limited to ${s.maxMovesPerSecond}/s (shardgate's default \`rebalance.max_moves_per_second\`). No pushes during the measurement.`,
    '',
    table(
      ['G stored', 'consistency check', 'groups moved', 'on the new shard', 'settle time', 'moves/s', 'two copies per move: mean / p99 ≤ / max ≤'],
      s.runs.map((r) => [
        fmtInt(r.groups),
        r.consistencyCheck ? 'on' : 'off',
        fmtInt(r.moved),
        fmtInt(r.onNewShard),
        `${r.settleSeconds.toFixed(2)} s`,
        fmtInt(Math.round(r.movesPerSecond)),
        r.twoCopy ? `${r.twoCopy.meanMs.toFixed(1)} / ${r.twoCopy.p99UpperMs} / ${r.twoCopy.maxUpperMs} ms` : 'n/a',
      ]),
    ),
  ];
}

function replicationSection(s: ReplicationCostResult): string[] {
  const o = s.options;
  return [
    '',
    '## 5. Cost of replication',
    '',
    `shardgate in front of 2 pushgateways, without and with \`replication\` (2 standby pushgateways); every pushgateway runs with \`--push.disable-consistency-check\`, \`push.consistency_check: off\`. ${fmtInt(o.groups)} groups pre-filled through each, then the suite 1 PUT from ${o.connections} connections, ${o.timing.warmupSeconds} s warm-up + ${o.timing.durationSeconds} s measured, ${o.rounds} interleaved round(s); figures are medians over rounds, ratios medians of per-round ratios (on / off).`,
    '',
    table(
      ['', 'replication off', 'replication on', 'on / off'],
      [
        ['pushes/s', fmtInt(Math.round(s.rpsOff)), fmtInt(Math.round(s.rpsOn)), s.rpsRatio.toFixed(2)],
        ['p99', `${fmtMs(s.p99OffMs)} ms`, `${fmtMs(s.p99OnMs)} ms`, s.p99Ratio.toFixed(2)],
      ],
    ),
  ];
}
