/**
 * Suite 2, the cost of the gateway. Two pushgateways with the consistency
 * check off (so they are not the bottleneck). Compared side by side:
 * pushing one pushgateway directly; nginx (`hash $request_uri consistent`,
 * one worker, upstream keep-alive) over the two; shardgate in proxy mode
 * over the same two; shardgate in redirect mode.
 *
 * Side by side means interleaved: nginx and shardgate proxy run at the same
 * time (an idle one costs nothing), and each round measures direct, nginx
 * and shardgate one after the other, in a rotating order; the figures are
 * medians over rounds and the ratios are medians of per-round ratios, so a
 * burst of other work on the machine hits one round, not one configuration.
 *
 * Every group is pushed once through each configuration before the rounds,
 * so every measured push replaces a stored group wherever it lands.
 * shardgate runs its default configuration apart from targets, mode and
 * `rebalance.sweep_interval: 10m` (so no sweep reads every group in the
 * middle of a measurement; its start-up round still runs).
 *
 * Fairness: nginx and shardgate are pinned to the same single CPU; the
 * load generator (this process) to the other one; pushgateways float.
 *
 * Half load: the paced undici client (see undici-load.ts for why not
 * autocannon's overallRate) offers the same rate, half of shardgate
 * proxy's median peak, to each configuration.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { pinProcess, type BenchShardgate, type ProcessSet, type Running } from './processes.js';
import { autocannonLoad, type LoadResult, type Timing } from './load.js';
import { median, rotate, round } from './stats.js';
import { undiciClosedLoop, undiciPaced } from './undici-load.js';
import { PUSH_BODY, PUSH_HEADERS, prefill, pushPaths } from './workload.js';
import { peakRssBytes, totalCpuSeconds } from './proc-stats.js';
import { check, type TargetCheck } from './targets.js';
import { progress } from './progress.js';

export interface GatewayCostOptions {
  readonly groups: number;
  readonly connections: number;
  readonly rounds: number;
  readonly timing: Timing;
  readonly dir: string;
  /** Write a V8 CPU profile of shardgate (proxy mode) into this directory. */
  readonly profileDir?: string;
}

export type GatewayConfig = 'direct' | 'nginx' | 'shardgate proxy' | 'shardgate redirect';

export interface GatewayRun {
  readonly config: GatewayConfig;
  readonly load: 'peak' | 'half';
  readonly round: number;
  /** What one measured request is, when it is not one PUT answered by a pushgateway. */
  readonly note?: string;
  readonly result: LoadResult;
  /** CPU used by the proxy's processes during the window, % of one core, and per response. */
  readonly proxyCpuPercent: number | null;
  readonly proxyCpuUsPerRequest: number | null;
}

/** Medians over the rounds of one configuration and load. */
export interface GatewaySummary {
  readonly config: GatewayConfig;
  readonly load: 'peak' | 'half';
  readonly note?: string;
  readonly generator: LoadResult['generator'];
  readonly rounds: number;
  readonly offeredRps: number | null;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly proxyCpuPercent: number | null;
  readonly proxyCpuUsPerRequest: number | null;
  readonly errors: number;
  readonly non2xx: number;
}

export interface GatewayCostResult {
  readonly options: Omit<GatewayCostOptions, 'dir' | 'profileDir'>;
  readonly pinning: { readonly proxyCpus: string | null; readonly loadGeneratorCpus: string | null };
  readonly halfLoadRps: number;
  readonly summary: readonly GatewaySummary[];
  /** Median of per-round ratios. */
  readonly proxyOverNginx: number | null;
  readonly addedP99MsAtHalfLoad: number | null;
  /** VmHWM once ready (after the start-up rebalance round), and after all its runs. */
  readonly peakRssBytes: { readonly proxyAtStart: number | null; readonly proxy: number | null; readonly redirectAtStart: number | null; readonly redirect: number | null };
  readonly runs: readonly GatewayRun[];
  readonly checks: readonly TargetCheck[];
}

export const GATEWAY_TARGETS = { proxyOverNginx: 0.8, addedP99Ms: 2, rssBytes: 150 * 1024 * 1024 } as const;

export async function runGatewayCost(procs: ProcessSet, opts: GatewayCostOptions): Promise<GatewayCostResult> {
  await mkdir(opts.dir, { recursive: true });
  const pinned = availableParallelism() >= 2;
  const proxyCpus = pinned ? '1' : undefined;
  const loadCpus = pinned ? '0' : undefined;
  const runs: GatewayRun[] = [];
  const base = { paths: pushPaths(opts.groups), body: PUSH_BODY, headers: PUSH_HEADERS, connections: opts.connections, ...opts.timing };
  const rss = { proxyAtStart: null as number | null, proxy: null as number | null, redirectAtStart: null as number | null, redirect: null as number | null };
  let halfLoadRps = 0;

  const record = async (config: GatewayConfig, load: GatewayRun['load'], roundNo: number, proxy: Running | undefined, measure: (hooks: CpuHooks) => Promise<LoadResult>, note?: string): Promise<void> => {
    const cpu = new CpuHooks(proxy);
    const result = await measure(cpu);
    const cpuSeconds = cpu.seconds();
    runs.push({
      config,
      load,
      round: roundNo,
      ...(note === undefined ? {} : { note }),
      result,
      proxyCpuPercent: cpuSeconds === null ? null : round((cpuSeconds / result.windowSeconds) * 100, 1),
      proxyCpuUsPerRequest: cpuSeconds === null || result.responses === 0 ? null : round((cpuSeconds * 1e6) / result.responses, 1),
    });
    const cpuText = cpuSeconds === null ? '' : `, proxy CPU ${((cpuSeconds / result.windowSeconds) * 100).toFixed(0)}%`;
    progress(`gateway-cost round ${roundNo} ${config} (${load}${note ? `, ${note}` : ''}): ${result.rps} req/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, errors ${result.errors}, non-2xx ${result.non2xx}${cpuText}`);
  };
  const fill = async (name: string, url: string, follow = false): Promise<void> => {
    const s = await prefill(url, 0, opts.groups, 16, follow);
    progress(`gateway-cost: ${opts.groups} groups pushed through ${name} in ${s.toFixed(1)} s`);
  };

  const pgA = await procs.pushgateway('pushgateway a', join(opts.dir, 'a.data'), ['--push.disable-consistency-check']);
  const pgB = await procs.pushgateway('pushgateway b', join(opts.dir, 'b.data'), ['--push.disable-consistency-check']);
  const targets = [pgA.target, pgB.target];
  try {
    if (loadCpus) pinProcess(process.pid, loadCpus);
    const nodeArgs = opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`] : [];
    const proxy = await startShardgate(procs, opts.dir, 'proxy', targets, proxyCpus, nodeArgs);
    rss.proxyAtStart = peakRssBytes(proxy.pid) ?? null;
    const nginx = await procs.nginx('nginx', join(opts.dir, 'nginx'), targets, proxyCpus);
    await fill('direct', pgA.url);
    await fill('shardgate proxy', proxy.url);
    await fill('nginx', nginx.url);
    const subjects: readonly { config: GatewayConfig; url: string; proc: Running | undefined }[] = [
      { config: 'direct', url: pgA.url, proc: undefined },
      { config: 'nginx', url: nginx.url, proc: nginx },
      { config: 'shardgate proxy', url: proxy.url, proc: proxy },
    ];
    for (let r = 1; r <= opts.rounds; r++) {
      for (const s of rotate(subjects, r - 1)) await record(s.config, 'peak', r, s.proc, (hooks) => autocannonLoad({ ...base, url: s.url, hooks }));
    }
    halfLoadRps = Math.max(1, Math.round(median(runs.filter((x) => x.config === 'shardgate proxy' && x.load === 'peak').map((x) => x.result.rps)) / 2));
    for (let r = 1; r <= opts.rounds; r++) {
      for (const s of rotate(subjects, r - 1)) {
        await record(s.config, 'half', r, s.proc, (hooks) => undiciPaced({ ...base, origin: s.url, connections: 64, followRedirects: false, rps: halfLoadRps, hooks }));
      }
    }
    rss.proxy = peakRssBytes(proxy.pid) ?? null;
    await Promise.all([proxy.stop(), nginx.stop()]);

    // Redirect mode, one round: a 307-only run, then the followed round trip next to the same client pushing directly.
    const redirect = await startShardgate(procs, opts.dir, 'redirect', targets, proxyCpus, []);
    rss.redirectAtStart = peakRssBytes(redirect.pid) ?? null;
    await fill('shardgate redirect', redirect.url, true);
    await record('shardgate redirect', 'peak', 1, redirect, (hooks) => autocannonLoad({ ...base, url: redirect.url, hooks }), NOTE_307_ONLY);
    await record('shardgate redirect', 'peak', 1, redirect, (hooks) => undiciClosedLoop({ ...base, origin: redirect.url, followRedirects: true, hooks }), NOTE_FOLLOWED);
    await record('direct', 'peak', 1, undefined, (hooks) => undiciClosedLoop({ ...base, origin: pgA.url, followRedirects: false, hooks }), NOTE_UNDICI_DIRECT);
    await record('shardgate redirect', 'half', 1, redirect, (hooks) => undiciPaced({ ...base, origin: redirect.url, connections: 64, followRedirects: true, rps: halfLoadRps, hooks }), NOTE_FOLLOWED);
    rss.redirect = peakRssBytes(redirect.pid) ?? null;
    await redirect.stop();
  } finally {
    if (loadCpus) pinProcess(process.pid, `0-${availableParallelism() - 1}`);
    await Promise.allSettled([pgA.stop(), pgB.stop()]);
  }
  const proxyOverNginx = perRoundMedian(runs, 'peak', 'shardgate proxy', 'nginx', (a, b) => a.rps / b.rps);
  const addedP99 = perRoundMedian(runs, 'half', 'shardgate proxy', 'direct', (a, b) => a.p99Ms - b.p99Ms);
  const { dir: _d, profileDir: _p, ...options } = opts;
  return {
    options,
    pinning: { proxyCpus: proxyCpus ?? null, loadGeneratorCpus: loadCpus ?? null },
    halfLoadRps,
    summary: summarise(runs),
    proxyOverNginx: proxyOverNginx === null ? null : round(proxyOverNginx, 3),
    addedP99MsAtHalfLoad: addedP99 === null ? null : round(addedP99, 3),
    peakRssBytes: rss,
    runs,
    checks: gatewayChecks(proxyOverNginx, addedP99, rss),
  };
}

export const NOTE_307_ONLY = '307 only, not followed (autocannon)';
export const NOTE_FOLLOWED = '307 followed: 307 round trip + PUT to the owner (undici)';
export const NOTE_UNDICI_DIRECT = 'same undici client as "307 followed", for comparison';

function gatewayChecks(proxyOverNginx: number | null, addedP99: number | null, rss: GatewayCostResult['peakRssBytes']): TargetCheck[] {
  const checks: TargetCheck[] = [];
  if (proxyOverNginx !== null) {
    checks.push(check('shardgate proxy / nginx throughput (median of per-round ratios)', `≥ ${GATEWAY_TARGETS.proxyOverNginx}×`, `${proxyOverNginx.toFixed(2)}×`, proxyOverNginx >= GATEWAY_TARGETS.proxyOverNginx));
  }
  if (addedP99 !== null) {
    checks.push(check('p99 added by shardgate proxy vs direct at half load (median of per-round differences)', `< ${GATEWAY_TARGETS.addedP99Ms} ms`, `${addedP99.toFixed(2)} ms`, addedP99 < GATEWAY_TARGETS.addedP99Ms));
  }
  for (const [mode, bytes] of [['proxy', rss.proxy], ['redirect', rss.redirect]] as const) {
    if (bytes !== null) checks.push(check(`shardgate ${mode} peak RSS (VmHWM)`, `< ${GATEWAY_TARGETS.rssBytes / 2 ** 20} MB`, `${(bytes / 2 ** 20).toFixed(1)} MB`, bytes < GATEWAY_TARGETS.rssBytes));
  }
  return checks;
}

function perRoundMedian(runs: readonly GatewayRun[], load: GatewayRun['load'], a: GatewayConfig, b: GatewayConfig, f: (a: LoadResult, b: LoadResult) => number): number | null {
  const values: number[] = [];
  for (const ra of runs) {
    if (ra.config !== a || ra.load !== load || ra.note !== undefined) continue;
    const rb = runs.find((x) => x.config === b && x.load === load && x.round === ra.round && x.note === undefined);
    if (rb) values.push(f(ra.result, rb.result));
  }
  return values.length === 0 ? null : median(values);
}

function summarise(runs: readonly GatewayRun[]): GatewaySummary[] {
  const groups = new Map<string, GatewayRun[]>();
  for (const r of runs) {
    const key = `${r.load}|${r.config}|${r.note ?? ''}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((rs) => {
    const first = rs[0] as GatewayRun;
    const nullableMedian = (xs: (number | null)[]): number | null => (xs.some((x) => x === null) ? null : round(median(xs as number[]), 1));
    return {
      config: first.config,
      load: first.load,
      ...(first.note === undefined ? {} : { note: first.note }),
      generator: first.result.generator,
      rounds: rs.length,
      offeredRps: first.result.offeredRps ?? null,
      rps: round(median(rs.map((r) => r.result.rps)), 1),
      p50Ms: round(median(rs.map((r) => r.result.p50Ms)), 3),
      p99Ms: round(median(rs.map((r) => r.result.p99Ms)), 3),
      proxyCpuPercent: nullableMedian(rs.map((r) => r.proxyCpuPercent)),
      proxyCpuUsPerRequest: nullableMedian(rs.map((r) => r.proxyCpuUsPerRequest)),
      errors: rs.reduce((s, r) => s + r.result.errors, 0),
      non2xx: rs.reduce((s, r) => s + r.result.non2xx, 0),
    };
  });
}

/** shardgate with its default configuration apart from targets, mode and the sweep interval. */
async function startShardgate(procs: ProcessSet, dir: string, mode: 'proxy' | 'redirect', targets: readonly string[], cpus: string | undefined, nodeArgs: readonly string[]): Promise<BenchShardgate> {
  const file = join(dir, `shardgate-${mode}.yml`);
  await writeFile(file, `mode: ${mode}\ntargets: [${targets.join(', ')}]\nrebalance:\n  sweep_interval: 10m\n`);
  return procs.shardgate({ name: `shardgate ${mode}`, args: [`--config.file=${file}`], expectShards: targets.length, cpus, nodeArgs });
}

/** Samples the CPU time of a proxy's processes when the measurement window opens and closes. */
class CpuHooks {
  readonly #proxy: Running | undefined;
  #start = 0;
  #end = 0;

  constructor(proxy: Running | undefined) {
    this.#proxy = proxy;
  }

  onStart(): void {
    if (this.#proxy) this.#start = totalCpuSeconds(this.#proxy.pids());
  }

  onEnd(): void {
    if (this.#proxy) this.#end = totalCpuSeconds(this.#proxy.pids());
  }

  seconds(): number | null {
    return this.#proxy ? this.#end - this.#start : null;
  }
}

