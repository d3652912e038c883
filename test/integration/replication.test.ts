/**
 * Replication end to end, against real pushgateways: 4 shards and 4
 * standbys. 500 groups are pushed (twice, so "last value" means something),
 * a few of the victim's groups are deleted by the client, then the victim
 * is SIGKILLed and its persistence file removed. With replication every
 * acknowledged group is back on a live shard with its last value, and no
 * deleted group comes back; without it (the control), the victim's groups
 * are gone. A real Prometheus scraping shardgate's http_sd (honor_labels,
 * 1 s scrapes) sees every group, without a gap, once it has refreshed.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { startPushgateways, type TestPushgateway } from '../support/pushgateway.js';
import { startShardgate, type Shardgate } from '../support/shardgate.js';
import { groupsOn, sampleValue } from '../support/pushgateway-api.js';
import { waitFor } from '../support/wait-for.js';
import { startPrometheus, type TestPrometheus } from '../support/prometheus.js';
import { standbyOrder } from '../../src/replication/standby-order.js';
import { shardKey, sortedKey } from '../../src/groupingkey/grouping-key.js';

const GROUPS = 500;
const DELETED = 10;
const pathOf = (i: number): string => `/metrics/job/repl/instance/i${i}`;

const live: Array<{ stop(): Promise<void> }> = [];
after(async () => {
  for (const x of live.reverse()) await x.stop();
});

async function pushAll(gw: Shardgate, value: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < GROUPS) {
        const i = next++;
        const res = await fetch(`${gw.url}${pathOf(i)}`, { method: 'PUT', body: `repl_value ${value}\n` });
        assert.equal(res.status, 200, `push ${i}: ${await res.text()}`);
      }
    }),
  );
}

async function ownerOf(gw: Shardgate, i: number): Promise<string> {
  return ((await (await fetch(`${gw.url}${pathOf(i)}`)).json()) as { shard: string }).shard;
}

async function inRing(gw: Shardgate, target: string): Promise<boolean> {
  const shards = (await (await fetch(`${gw.url}/api/v1/shards`)).json()) as { data: Array<{ target: string; in_ring: boolean }> };
  return shards.data.some((s) => s.target === target && s.in_ring);
}

/** instance → value of repl_value, over the given pushgateways (a group on two of them fails the test). */
async function valuesOn(pgs: readonly TestPushgateway[]): Promise<Map<string, string | undefined>> {
  const out = new Map<string, string | undefined>();
  for (const p of pgs) {
    for (const g of await groupsOn(p.url)) {
      if (g.labels['job'] !== 'repl') continue;
      const instance = g.labels['instance'] ?? '';
      assert.ok(!out.has(instance), `${instance} held twice`);
      out.set(instance, sampleValue(g, 'repl_value'));
    }
  }
  return out;
}

/** count(repl_value) per second from `from` to `to` (unix seconds), as Prometheus evaluates it. */
async function countsOver(prom: TestPrometheus, from: number, to: number): Promise<number[]> {
  const q = encodeURIComponent('count(repl_value{job="repl"})');
  const body = (await (await fetch(`${prom.url}/api/v1/query_range?query=${q}&start=${from}&end=${to}&step=1`)).json()) as { data: { result: Array<{ values: Array<[number, string]> }> } };
  const values = body.data.result[0]?.values ?? [];
  // A step with no series at all is missing from the answer: count it as 0.
  return Array.from({ length: to - from + 1 }, (_, i) => Number(values.find(([t]) => t === from + i)?.[1] ?? 0));
}

async function scenario(replication: boolean): Promise<{ victimGroups: number[]; deleted: number[]; survivors: TestPushgateway[]; gw: Shardgate; prom: TestPrometheus | undefined }> {
  const shards = await startPushgateways(4);
  live.push(...shards);
  const standbys = replication ? await startPushgateways(4) : [];
  live.push(...standbys);
  const list = (pgs: readonly TestPushgateway[]): string => `[${pgs.map((p) => `"${p.target}"`).join(', ')}]`;
  const gw = await startShardgate({
    config:
      `targets: ${list(shards)}\nhealth_check: { interval: 200ms, timeout: 500ms, fall: 2, rise: 2 }\nrebalance: { sweep_interval: 2s }\n` +
      (replication ? `replication: { enabled: true, standby_targets: ${list(standbys)} }\n` : ''),
    waitReady: true,
  });
  live.push(gw);
  await waitFor(async () => (await Promise.all(shards.map((p) => inRing(gw, p.target)))).every(Boolean), { what: 'all 4 in the ring' });
  const prom = replication
    ? await startPrometheus(`global: { scrape_interval: 1s, scrape_timeout: 900ms }
scrape_configs:
  - job_name: pushgateway
    honor_labels: true
    http_sd_configs: [{ url: "${gw.url}/api/v1/sd", refresh_interval: 1s }]
`)
    : undefined;
  if (prom !== undefined) live.push(prom);

  await pushAll(gw, 1);
  await pushAll(gw, 2);
  const victim = shards[0];
  assert.ok(victim);
  const owners = await Promise.all(Array.from({ length: GROUPS }, (_, i) => ownerOf(gw, i)));
  const victimGroups = owners.flatMap((o, i) => (o === victim.target ? [i] : []));
  assert.ok(victimGroups.length > 50, 'the victim owns a share of the groups');
  // The client deletes some of the victim's groups: they must stay deleted.
  const deleted = victimGroups.slice(0, DELETED);
  for (const i of deleted) assert.equal((await fetch(`${gw.url}${pathOf(i)}`, { method: 'DELETE' })).status, 202);

  if (prom !== undefined) {
    const want = GROUPS - DELETED;
    await waitFor(async () => Number((await prom.query('count(repl_value{job="repl"})'))[0]?.value[1] ?? 0) === want, { what: 'Prometheus to see every group', timeoutMs: 30_000 });
  }
  process.kill(victim.pid, 'SIGKILL');
  await rm(victim.dataFile, { force: true });
  await waitFor(async () => !(await inRing(gw, victim.target)), { what: 'the dead shard to leave the ring' });
  return { victimGroups, deleted, survivors: shards.slice(1), gw, prom };
}

test('replication on: every acknowledged group of a SIGKILLed shard is back on a live shard with its last value; deleted ones stay deleted', async () => {
  const { victimGroups, deleted, survivors, gw, prom } = await scenario(true);
  assert.ok(prom);
  const wanted = Array.from({ length: GROUPS }, (_, i) => i).filter((i) => !deleted.includes(i));
  await waitFor(
    async () => {
      const values = await valuesOn(survivors);
      return wanted.every((i) => values.get(`i${i}`) === '2');
    },
    { what: 'every acknowledged group back on a live shard', timeoutMs: 30_000 },
  );
  const values = await valuesOn(survivors);
  for (const i of deleted) assert.ok(!values.has(`i${i}`), `deleted group i${i} came back`);
  assert.equal(values.size, GROUPS - deleted.length);
  const metrics = await (await fetch(`${gw.url}/metrics`)).text();
  const restored = Number(/shardgate_replication_groups_restored_total\{result="restored"\} (\d+)/.exec(metrics)?.[1] ?? 0);
  assert.equal(restored, victimGroups.length - deleted.length);
  assert.match(metrics, /shardgate_replication_standby_writes_total\{result="ok"\} [1-9]/);
  assert.match(gw.logs(), /restored a dead shard's groups from the standbys/);

  // Prometheus: once its http_sd refresh dropped the dead shard, and two scrape intervals later,
  // every group is there at every 1 s step (a gap longer than two intervals would show as a lower count).
  const survivorTargets = survivors.map((p) => p.target).sort();
  await waitFor(async () => JSON.stringify((await prom.activeTargets()).sort()) === JSON.stringify(survivorTargets), { what: 'Prometheus to drop the dead shard', timeoutMs: 30_000 });
  const from = Math.ceil(Date.now() / 1000) + 2;
  const to = from + 6;
  await waitFor(async () => Number((await prom.query('max(timestamp(repl_value{job="repl"}))'))[0]?.value[1] ?? 0) >= to + 1, { what: 'Prometheus to scrape past the window', timeoutMs: 30_000 });
  assert.deepEqual(await countsOver(prom, from, to), new Array<number>(to - from + 1).fill(GROUPS - DELETED));
});

test('control, replication off: the SIGKILLed shard\'s groups are lost', async () => {
  const { victimGroups, deleted, survivors, gw } = await scenario(false);
  // Let the rebalancer run a round after the ring change: nothing brings the groups back.
  await waitFor(async () => /shardgate_rebalance_runs_total\{[^}]*\} [2-9]/.test(await (await fetch(`${gw.url}/metrics`)).text()), { what: 'rebalance rounds after the death', timeoutMs: 30_000 });
  const values = await valuesOn(survivors);
  const lost = victimGroups.filter((i) => !deleted.includes(i) && !values.has(`i${i}`));
  assert.equal(lost.length, victimGroups.length - deleted.length, 'every group of the dead shard is lost');
  assert.equal(values.size, GROUPS - victimGroups.length);
});

test('the standby sweep repairs a standby that came back empty: it holds again every group it is first for', async () => {
  const shards = await startPushgateways(2);
  const standbys = await startPushgateways(2);
  live.push(...shards, ...standbys);
  const list = (pgs: readonly TestPushgateway[]): string => `[${pgs.map((p) => `"${p.target}"`).join(', ')}]`;
  const gw = await startShardgate({
    config: `targets: ${list(shards)}\nhealth_check: { interval: 200ms, timeout: 500ms }\nrebalance: { sweep_interval: 1s }\nreplication: { enabled: true, standby_targets: ${list(standbys)} }\n`,
    waitReady: true,
  });
  live.push(gw);
  await waitFor(async () => (await Promise.all(shards.map((p) => inRing(gw, p.target)))).every(Boolean), { what: 'both in the ring' });
  const [lost, kept] = standbys as [TestPushgateway, TestPushgateway];
  // The standby loses its disk, and comes back empty.
  process.kill(lost.pid, 'SIGKILL');
  await rm(lost.dataFile, { force: true });
  // Meanwhile every push still gets its standby copy (the fallback).
  await pushAll(gw, 3);
  await lost.restart();
  const firstOnLost = Array.from({ length: GROUPS }, (_, i) => i).filter((i) => standbyOrder(shardKey(sortedKey({ job: 'repl', instance: `i${i}` })), standbys.map((s) => s.target))[0] === lost.target);
  assert.ok(firstOnLost.length > 50);
  await waitFor(
    async () => {
      const values = await valuesOn([lost]);
      return firstOnLost.every((i) => values.get(`i${i}`) === '3');
    },
    { what: 'the sweep to copy the groups back to the standby', timeoutMs: 30_000 },
  );
  const metrics = await (await fetch(`${gw.url}/metrics`)).text();
  assert.match(metrics, /shardgate_replication_standby_writes_total\{result="fallback"\} [1-9]/);
  assert.match(metrics, /shardgate_replication_standby_repairs_total [1-9]/);
  assert.ok((await valuesOn([kept])).size > 0);
});
