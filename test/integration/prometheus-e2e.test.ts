/**
 * The product promise, checked by a real Prometheus: while pushers keep
 * raising counters for a few hundred groups, a shard is killed, comes back
 * with its persistence file, a shard is added by reload and another drained.
 * Prometheus scrapes the shards it discovers from shardgate's http_sd
 * endpoint (honor_labels: true, as the README says). Afterwards:
 *  - resets() over the whole window is 0 for every series (no stale copy
 *    was ever scraped: a zig-zag would count as a reset);
 *  - once settled, no grouping key is on two shards, and every group is
 *    present exactly once with its last pushed value.
 * A control run with the rebalancer switched off must violate these checks,
 * which shows the checks can fail.
 * Prometheus also runs the deploy config's `shardgate` and `pushgateway_groups`
 * jobs, and at the end every query of the Grafana dashboard
 * (deploy/grafana/shardgate.json) must return a number.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPushgateways, type TestPushgateway } from '../support/pushgateway.js';
import { startShardgate, type Shardgate } from '../support/shardgate.js';
import { startPrometheus, type TestPrometheus } from '../support/prometheus.js';
import { groupsOn } from '../support/pushgateway-api.js';
import { waitFor } from '../support/wait-for.js';
import { dashboardQueries, withRange } from '../support/grafana-dashboard.js';
import { deployScrapeJobs } from '../support/deploy-scrape-config.js';

const GROUPS = 200;
const CONCURRENCY = 8;

interface Verdict {
  readonly resets: number;
  readonly groupsOnTwoShards: number;
  readonly groupsSeen: number;
  readonly wrongValues: number;
  /** Dashboard queries that returned no finite value (checked with the rebalancer only). */
  readonly dashboardProblems: readonly string[];
  /** Diagnostics, not asserted: scrape health and what each pushgateway holds at the end. */
  readonly debug: unknown;
}

async function shardState(sg: Shardgate): Promise<Array<{ target: string; in_ring: boolean; drain: { state: string } | null }>> {
  return ((await (await fetch(`${sg.url}/api/v1/shards`)).json()) as { data: Array<{ target: string; in_ring: boolean; drain: { state: string } | null }> }).data;
}

async function scenario(rebalance: boolean): Promise<Verdict> {
  const startedAt = Date.now();
  const stops: Array<() => Promise<void>> = [];
  try {
    const pgs = await startPushgateways(4, { extraArgs: ['--persistence.interval=1s'] });
    stops.push(...pgs.map((p) => () => p.stop()));
    const [a, b, c, d] = pgs as [TestPushgateway, TestPushgateway, TestPushgateway, TestPushgateway];
    const config = (members: TestPushgateway[]): string =>
      `targets: [${members.map((p) => `"${p.target}"`).join(', ')}]\nhealth_check: { interval: 250ms, timeout: 1s, fall: 2, rise: 2 }\nrebalance: { enabled: ${rebalance}, sweep_interval: 2s }\n`;
    const sg = await startShardgate({ config: config([a, b, c]), args: ['--web.enable-admin-api', '--web.enable-lifecycle'], waitReady: true });
    stops.push(() => sg.stop());
    const sd = `http_sd_configs: [{ url: "${sg.url}/api/v1/sd", refresh_interval: 1s }]`;
    const prom = await startPrometheus(`global: { scrape_interval: 1s, scrape_timeout: 900ms }
scrape_configs:
  - job_name: pushgateway
    honor_labels: true
    ${sd}
  - job_name: pushgateway_by_shard
    honor_labels: true
    ${sd}
    relabel_configs:
      - { source_labels: [__meta_shardgate_shard], target_label: shard }
    metric_relabel_configs:
      - { source_labels: [__name__], regex: e2e_pushes_total, action: keep }
      - { source_labels: [__name__], target_label: __name__, replacement: e2e_pushes_by_shard }
${deployScrapeJobs(sg.url, ['shardgate', 'pushgateway_groups'])}
`);
    stops.push(() => prom.stop());

    // Pushers: round r sets every group's counter to r; lastOk is what each group must end with.
    const lastOk = new Array<number>(GROUPS).fill(0);
    let round = 0;
    let pushing = true;
    const pusher = (async () => {
      while (pushing) {
        round++;
        const r = round;
        let next = 0;
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            for (let i = next++; i < GROUPS; i = next++) {
              const res = await fetch(`${sg.url}/metrics/job/e2e/instance/g${i}`, { method: 'PUT', body: `# TYPE e2e_pushes_total counter\ne2e_pushes_total ${r}\n` }).catch(() => undefined);
              if (res?.status === 200) lastOk[i] = r;
              await res?.body?.cancel();
            }
          }),
        );
      }
    })();
    const rounds = async (n: number): Promise<void> => {
      const target = round + n;
      await waitFor(() => round > target, { timeoutMs: 60_000, what: `${n} push rounds` });
    };
    const inRing = async (t: TestPushgateway, want: boolean): Promise<void> =>
      waitFor(async () => (await shardState(sg)).some((s) => s.target === t.target && s.in_ring) === want, { timeoutMs: 30_000, what: `${t.target} in ring = ${want}` });

    await waitFor(async () => (await prom.query('count(e2e_pushes_total)'))[0]?.value[1] === String(GROUPS), { timeoutMs: 30_000, what: 'prometheus to see every group' });

    // 1. A shard dies; its groups are pushed to their new owners meanwhile.
    process.kill(a.pid, 'SIGKILL');
    await inRing(a, false);
    await rounds(3);
    // 2. It comes back with its (now stale) persistence file, once Prometheus has
    //    followed the discovery and dropped it (a shard that returns before
    //    Prometheus refreshes its targets can be scraped before anyone can clean
    //    it; see README "Trade-offs").
    await waitFor(async () => !(await prom.activeTargets()).includes(a.target), { timeoutMs: 30_000, what: 'prometheus to drop the dead shard' });
    await a.restart();
    await inRing(a, true);
    await rounds(3);
    // 3. A shard is added by reload.
    await sg.writeConfig(config([a, b, c, d]));
    assert.equal((await fetch(`${sg.url}/-/reload`, { method: 'POST' })).status, 200);
    await inRing(d, true);
    await rounds(3);
    // 4. A shard is drained for scale-in.
    assert.equal((await fetch(`${sg.url}/api/v1/admin/drain?target=${b.target}`, { method: 'POST' })).status, rebalance ? 202 : 404);
    if (rebalance) await waitFor(async () => (await shardState(sg)).find((s) => s.target === b.target)?.drain?.state === 'drained', { timeoutMs: 60_000, what: 'drain' });
    await rounds(2);
    pushing = false;
    await pusher;

    // Settle: (with the rebalancer) no pending move, then a few scrapes of the final state.
    if (rebalance) {
      await waitFor(async () => /shardgate_rebalance_pending_moves 0\b/.test(await (await fetch(`${sg.url}/metrics`)).text()), { timeoutMs: 30_000, what: 'no pending moves' });
      await waitFor(async () => {
        const copies = (await Promise.all(pgs.map((p) => groupsOn(p.url)))).flat().filter((g) => g.labels['job'] === 'e2e').length;
        return copies === GROUPS;
      }, { timeoutMs: 30_000, what: 'one copy per group on the pushgateways' });
    }
    // Prometheus applies discovery changes in batches (every 5 s): wait until both
    // jobs scrape exactly the discovered shards, each at least once since settling.
    const settledAt = Date.now() / 1000;
    const discovered = ((await (await fetch(`${sg.url}/api/v1/sd`)).json()) as Array<{ targets: string[] }>).flatMap((g) => g.targets).sort();
    await waitFor(async () => {
      for (const job of ['pushgateway', 'pushgateway_by_shard']) {
        const up = await prom.query(`timestamp(up{job="${job}"})`);
        const scraped = up.map((r) => r.metric['instance'] ?? '').sort();
        if (JSON.stringify(scraped) !== JSON.stringify(discovered)) return false;
        if (up.some((r) => Number(r.value[1]) <= settledAt + 2)) return false;
      }
      return true;
    }, { timeoutMs: 30_000, what: 'prometheus to scrape the settled fleet' });

    const resets = Number((await prom.query('sum(resets(e2e_pushes_total[10m]))'))[0]?.value[1] ?? 'NaN');
    const twice = (await prom.query('count by (instance) (e2e_pushes_by_shard) > 1')).length;
    const values = await prom.query('e2e_pushes_total');
    const byInstance = new Map(values.map((v) => [v.metric['instance'] ?? '', v.value[1]]));
    let wrong = 0;
    for (let i = 0; i < GROUPS; i++) if (byInstance.get(`g${i}`) !== String(lastOk[i])) wrong++;
    const debug = {
      up: (await prom.query('up')).map((r) => `${r.metric['job'] ?? ''}/${r.metric['instance'] ?? ''}=${r.value[1]}`),
      held: await Promise.all(pgs.map(async (p) => `${p.target}:${(await groupsOn(p.url)).filter((g) => g.labels['job'] === 'e2e').length}`)),
      sd: await (await fetch(`${sg.url}/api/v1/sd`)).json(),
      lastRound: round,
    };
    const dashboardProblems = rebalance ? await dashboardQueriesWithoutData(prom, startedAt) : [];
    return { resets, groupsOnTwoShards: twice, groupsSeen: (await prom.query('count by (instance) (e2e_pushes_by_shard)')).length, wrongValues: wrong, dashboardProblems, debug };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
}

/**
 * Every dashboard query, its interval variables set to the whole run, as an
 * instant query: those that return no finite value once Prometheus has
 * scraped everything (polled briefly; all normally answer at once).
 */
async function dashboardQueriesWithoutData(prom: TestPrometheus, startedAt: number): Promise<string[]> {
  const range = `${Math.ceil((Date.now() - startedAt) / 1000) + 10}s`;
  let problems: string[] = [];
  await waitFor(async () => {
    problems = [];
    for (const q of dashboardQueries()) {
      const result = await prom.query(withRange(q.expr, range));
      if (!result.some((r) => Number.isFinite(Number(r.value[1])))) problems.push(`${q.panel}/${q.refId}: ${q.expr} -> ${JSON.stringify(result)}`);
    }
    return problems.length === 0;
  }, { timeoutMs: 10_000, intervalMs: 500, what: 'dashboard queries to return data' }).catch(() => undefined);
  return problems;
}

test('with the rebalancer: no reset, every group once, with its last value, through kill, recovery, scale-out and drain', { timeout: 240_000 }, async (t) => {
  const v = await scenario(true);
  t.diagnostic(`rebalancer on: ${JSON.stringify(v)}`);
  assert.deepEqual({ ...v, debug: undefined }, { resets: 0, groupsOnTwoShards: 0, groupsSeen: GROUPS, wrongValues: 0, dashboardProblems: [], debug: undefined });
});

test('control: the same checks catch the stale copies when the rebalancer is off', { timeout: 240_000 }, async (t) => {
  const v = await scenario(false);
  t.diagnostic(`rebalancer off: ${JSON.stringify(v)}`);
  assert.ok(v.resets > 0 || v.groupsOnTwoShards > 0, `expected violations without the rebalancer, got ${JSON.stringify(v)}`);
});
