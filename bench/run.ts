/**
 * `npm run bench`: runs the benchmark suites in order, each starting and
 * stopping its own processes, and writes bench/results/<name>.md and .json.
 *
 *   node dist/bench/run.js [--quick] [--only=scale-out,gateway-cost,ring-quality] [--profile] [--out=NAME]
 *
 * Suites: scale-out, gateway-cost, ring-quality, rebalance-settle, replication-cost.
 *
 * --quick    smaller and shorter (about 2 minutes), for development; writes quick.*
 * --only     run only these suites; writes partial.* unless --out is given
 * --profile  also record CPU profiles of shardgate (local --shards=max in
 *            suite 1, proxy mode in suite 2) and summarise them in the
 *            report (profiling slows shardgate down a little)
 *
 * Every process started is stopped by PID when the run ends, fails or is
 * interrupted (SIGINT/SIGTERM).
 */
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPushgatewayBinary } from '../src/local/pushgateway-binary.js';
import { ProcessSet } from './processes.js';
import { runScaleOut, type ScaleOutOptions } from './scale-out.js';
import { runGatewayCost, type GatewayCostOptions } from './gateway-cost.js';
import { runRingQuality, type RingQualityOptions } from './ring-quality.js';
import { runRebalanceSettle, type RebalanceSettleOptions } from './rebalance-settle.js';
import { runReplicationCost, type ReplicationCostOptions } from './replication-cost.js';
import { summariseProfile, type ProfileSummary } from './profile-summary.js';
import { machineInfo } from './machine.js';
import { allChecks, writeReport, type BenchReport } from './report.js';
import { verdict } from './targets.js';
import { progress } from './progress.js';

const SUITES = ['scale-out', 'gateway-cost', 'ring-quality', 'rebalance-settle', 'replication-cost'] as const;
type Suite = (typeof SUITES)[number];
const RESULTS_DIR = fileURLToPath(new URL('../../bench/results/', import.meta.url));

interface Plan {
  readonly scaleOut: Omit<ScaleOutOptions, 'dir' | 'profileDir'>;
  readonly gatewayCost: Omit<GatewayCostOptions, 'dir' | 'profileDir'>;
  readonly ringQuality: RingQualityOptions;
  readonly rebalanceSettle: Omit<RebalanceSettleOptions, 'dir'>;
  readonly replicationCost: Omit<ReplicationCostOptions, 'dir'>;
}

const FULL: Plan = {
  scaleOut: { groups: [100, 1000, 10_000], shardCounts: [2, 4, 8], connections: 16, rounds: 2, timing: { warmupSeconds: 2, durationSeconds: 5 }, prefillConcurrency: 16, checkOnPrefillMaxGroups: 1000 },
  gatewayCost: { groups: 1000, connections: 32, rounds: 3, timing: { warmupSeconds: 2, durationSeconds: 5 } },
  ringQuality: { keys: 1_000_000, shardCounts: [3, 10, 100], lookupKeys: 100_000, lookupPasses: 2 },
  rebalanceSettle: { cases: [{ groups: 1000, consistencyCheck: true }, { groups: 1000, consistencyCheck: false }, { groups: 10_000, consistencyCheck: false }] },
  replicationCost: { groups: 1000, connections: 32, rounds: 3, timing: { warmupSeconds: 2, durationSeconds: 5 } },
};

const QUICK: Plan = {
  scaleOut: { ...FULL.scaleOut, groups: [100, 1000], rounds: 1, timing: { warmupSeconds: 1, durationSeconds: 3 } },
  gatewayCost: { ...FULL.gatewayCost, rounds: 1, timing: { warmupSeconds: 1, durationSeconds: 3 } },
  ringQuality: { ...FULL.ringQuality, keys: 100_000, lookupKeys: 20_000, lookupPasses: 2 },
  rebalanceSettle: { cases: [{ groups: 1000, consistencyCheck: false }] },
  replicationCost: { groups: 1000, connections: 32, rounds: 1, timing: { warmupSeconds: 1, durationSeconds: 3 } },
};

interface Args {
  readonly quick: boolean;
  readonly only: readonly Suite[] | undefined;
  readonly profile: boolean;
  readonly out: string | undefined;
}

function parseArgs(argv: readonly string[]): Args {
  let quick = false;
  let profile = false;
  let only: Suite[] | undefined;
  let out: string | undefined;
  for (const arg of argv) {
    if (arg === '--quick') quick = true;
    else if (arg === '--profile') profile = true;
    else if (arg.startsWith('--only=')) {
      only = arg.slice('--only='.length).split(',').map((s) => {
        const suite = SUITES.find((x) => x === s);
        if (!suite) throw new Error(`unknown suite ${JSON.stringify(s)}; suites: ${SUITES.join(', ')}`);
        return suite;
      });
    } else if (arg.startsWith('--out=') && /^[\w.-]+$/.test(arg.slice(6))) out = arg.slice(6);
    else throw new Error(`unknown argument ${JSON.stringify(arg)}; usage: run.js [--quick] [--only=${SUITES.join(',')}] [--profile] [--out=NAME]`);
  }
  return { quick, only, profile, out };
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const plan = args.quick ? QUICK : FULL;
  const suites = args.only ?? SUITES;
  const binary = findPushgatewayBinary();
  const work = await mkdtemp(join(tmpdir(), 'shardgate-bench-'));
  const procs = new ProcessSet(binary, work);
  process.once('exit', () => procs.signalAllNow());
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = true;
    progress(`${sig}: stopping every process this run started`);
    void procs.stopAll().finally(() => rm(work, { recursive: true, force: true }).finally(() => process.exit(130)));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const startedAt = new Date();
  const t0 = performance.now();
  const suiteSeconds: Record<string, number> = {};
  const timed = async <T>(name: Suite, fn: () => Promise<T> | T): Promise<T> => {
    progress(`suite ${name}: start (load average ${(loadavg()[0] ?? 0).toFixed(2)})`);
    const s = performance.now();
    try {
      return await fn();
    } finally {
      suiteSeconds[name] = Math.round((performance.now() - s) / 100) / 10;
      progress(`suite ${name}: done in ${suiteSeconds[name]} s`);
    }
  };
  let report: BenchReport = { kind: args.quick ? 'quick' : 'full', suitesRun: suites, startedAt: startedAt.toISOString(), durationSeconds: 0, suiteSeconds, machine: machineInfo(binary), loadAverage: { atStart: loadavg()[0] ?? 0, atEnd: 0 } };
  const profiles: NonNullable<BenchReport['profiles']>[number][] = [];
  const profileDir = (suite: Suite): { profileDir?: string } => (args.profile ? { profileDir: join(work, `profile-${suite}`) } : {});
  const keep = async (suite: Suite, name: string, file: string): Promise<void> => {
    const dir = profileDir(suite).profileDir;
    const kept = dir === undefined ? undefined : await keepProfile(dir, file);
    if (kept) profiles.push({ name, file, summary: kept });
  };
  try {
    if (suites.includes('scale-out')) {
      report = { ...report, scaleOut: await timed('scale-out', () => runScaleOut(procs, { ...plan.scaleOut, dir: join(work, 'scale-out'), ...profileDir('scale-out') })) };
      await keep('scale-out', `shardgate local --shards=${Math.max(...plan.scaleOut.shardCounts)} during suite 1 (consistency check on)`, 'shardgate-local.cpuprofile');
    }
    if (suites.includes('gateway-cost')) {
      report = { ...report, gatewayCost: await timed('gateway-cost', () => runGatewayCost(procs, { ...plan.gatewayCost, dir: join(work, 'gateway-cost'), ...profileDir('gateway-cost') })) };
      await keep('gateway-cost', 'shardgate proxy during suite 2 (peak and half load)', 'shardgate-proxy.cpuprofile');
    }
    if (suites.includes('ring-quality')) report = { ...report, ringQuality: await timed('ring-quality', () => runRingQuality(plan.ringQuality)) };
    if (suites.includes('replication-cost')) report = { ...report, replicationCost: await timed('replication-cost', () => runReplicationCost(procs, { ...plan.replicationCost, dir: join(work, 'replication-cost') })) };
    if (suites.includes('rebalance-settle')) report = { ...report, rebalanceSettle: await timed('rebalance-settle', () => runRebalanceSettle(procs, { ...plan.rebalanceSettle, dir: join(work, 'rebalance-settle') })) };
  } finally {
    await procs.stopAll();
    await rm(work, { recursive: true, force: true });
  }
  if (profiles.length > 0) report = { ...report, profiles };
  report = { ...report, durationSeconds: Math.round((performance.now() - t0) / 100) / 10, loadAverage: { ...report.loadAverage, atEnd: loadavg()[0] ?? 0 } };
  const name = args.out ?? (args.only ? 'partial' : args.quick ? 'quick' : 'latest');
  const files = await writeReport(RESULTS_DIR, name, report);
  for (const { suite, check } of allChecks(report)) progress(`${verdict(check.met).padEnd(6)} ${suite}: ${check.name} ${check.target} (observed ${check.observed})`);
  progress(`wrote ${files.md} and ${files.json}; total ${report.durationSeconds} s`);
  return 0;
}

/** Copies the profile next to the results (git ignores *.cpuprofile) and summarises it. */
async function keepProfile(dir: string, name: string): Promise<ProfileSummary | undefined> {
  const file = (await readdir(dir).catch(() => [])).find((f) => f.endsWith('.cpuprofile'));
  if (file === undefined) {
    progress(`no CPU profile was written in ${dir}`);
    return undefined;
  }
  const kept = join(RESULTS_DIR, name);
  await copyFile(join(dir, file), kept);
  progress(`CPU profile: ${kept}`);
  return summariseProfile(kept);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    progress(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
