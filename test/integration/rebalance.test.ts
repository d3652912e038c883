/**
 * The rebalancer against real pushgateways: every group ends on exactly one
 * shard, its owner, with its latest value, after a shard joins, after a
 * shard comes back with an old persistence file, after strays are pushed
 * around shardgate, and after a drain; writes made meanwhile are not lost.
 */
import { test, after } from 'node:test';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { startPushgateways, type TestPushgateway } from '../support/pushgateway.js';
import { startShardgate, type Shardgate } from '../support/shardgate.js';
import { copiesOfJob, groupsOn, sampleValue } from '../support/pushgateway-api.js';
import { waitFor } from '../support/wait-for.js';
import { familiesOf } from '../../src/upstream/metrics-api.js';

const live: Array<{ stop(): Promise<void> }> = [];
after(async () => {
  for (const x of live.reverse()) await x.stop();
});

const cfg = (pgs: TestPushgateway[], extra = ''): string =>
  `targets: [${pgs.map((p) => `"${p.target}"`).join(', ')}]\nhealth_check: { interval: 200ms, timeout: 1s }\nrebalance: { sweep_interval: 1s${extra} }\n`;

async function ownerOf(sg: Shardgate, path: string): Promise<string> {
  return ((await (await fetch(`${sg.url}${path}`)).json()) as { owner: string }).owner;
}

/** True when each of `n` groups is on exactly one shard, its owner, with value `expect(i)`. */
async function settled(sg: Shardgate, pgs: TestPushgateway[], job: string, n: number, expect: (i: number) => string): Promise<boolean> {
  const where = await copiesOfJob(pgs, job);
  if (where.size !== n) return false;
  for (let i = 0; i < n; i++) {
    const copies = where.get(`i${i}`) ?? [];
    if (copies.length !== 1) return false;
    const [only] = copies;
    if (only === undefined || only.target !== (await ownerOf(sg, `/metrics/job/${job}/instance/i${i}`))) return false;
    if (sampleValue(only.group, 'work_done_total') !== expect(i)) return false;
  }
  return true;
}

async function push(sg: Shardgate, job: string, i: number, value: number): Promise<void> {
  const res = await fetch(`${sg.url}/metrics/job/${job}/instance/i${i}`, {
    method: 'PUT',
    body: `# TYPE work_done_total counter\nwork_done_total ${value}\n# TYPE work_seconds histogram\nwork_seconds_bucket{le="1"} ${value}\nwork_seconds_bucket{le="+Inf"} ${value}\nwork_seconds_sum ${value / 2}\nwork_seconds_count ${value}\n`,
  });
  assert.equal(res.status, 200, await res.text());
}

test('a shard added by reload receives exactly its groups, losslessly, while pushes continue', async () => {
  const pgs = await startPushgateways(3);
  live.push(...pgs);
  const [a, b, c] = pgs as [TestPushgateway, TestPushgateway, TestPushgateway];
  const sg = await startShardgate({ config: cfg([a, b]), args: ['--web.enable-lifecycle'], waitReady: true });
  live.push(sg);
  const N = 150;
  for (let i = 0; i < N; i++) await push(sg, 'join', i, 1);
  assert.ok(await settled(sg, [a, b, c], 'join', N, () => '1'));

  // Keep pushing while the new shard joins: the last write of each group must win.
  let round = 1;
  let pushing = true;
  const pusher = (async () => {
    while (pushing) {
      round++;
      for (let i = 0; i < N; i += 7) await push(sg, 'join', i, round);
    }
  })();
  await sg.writeConfig(cfg([a, b, c]));
  assert.equal((await fetch(`${sg.url}/-/reload`, { method: 'POST' })).status, 200);
  await waitFor(async () => (await groupsOn(c.url)).length > 0, { what: 'groups to reach the new shard' });
  pushing = false;
  await pusher;
  const last = round;
  await waitFor(() => settled(sg, pgs, 'join', N, (i) => (i % 7 === 0 ? String(last) : '1')), { timeoutMs: 30_000, what: 'every group once, on its owner, with its last value' });

  // The histogram came across whole.
  const where = await copiesOfJob(pgs, 'join');
  const moved = [...where.values()].map((copies) => copies[0]).find((copy) => copy?.target === c.target);
  assert.ok(moved, 'some group moved to the new shard');
  const hist = familiesOf(moved.group).find(([name]) => name === 'work_seconds')?.[1];
  assert.equal(hist?.type, 'HISTOGRAM');
  assert.deepEqual(Object.keys(hist?.metrics[0]?.buckets ?? {}).sort(), ['+Inf', '1']);
  const metrics = await (await fetch(`${sg.url}/metrics`)).text();
  assert.match(metrics, /shardgate_rebalance_groups_moved_total [1-9]/);
  assert.match(sg.logs(), /msg="rebalance finished".*moved=[1-9]/);
});

test('a shard that returns with an old persistence file: its stale copies never win', async () => {
  const pgs = await startPushgateways(3);
  live.push(...pgs);
  const sg = await startShardgate({ config: cfg(pgs), waitReady: true });
  live.push(sg);
  const N = 90;
  for (let i = 0; i < N; i++) await push(sg, 'recover', i, 1);
  const victim = pgs[1] as TestPushgateway;
  const victimGroups = (await groupsOn(victim.url)).length;
  assert.ok(victimGroups > 0);

  // Stop it gracefully (it writes its persistence file with value 1), keep pushing value 2.
  const restart = victim.restart.bind(victim);
  process.kill(victim.pid, 'SIGSTOP');
  await waitFor(async () => {
    const shards = (await (await fetch(`${sg.url}/api/v1/shards`)).json()) as { data: Array<{ target: string; in_ring: boolean }> };
    return !shards.data.find((s) => s.target === victim.target)?.in_ring;
  }, { what: 'the stopped shard to leave the ring' });
  for (let i = 0; i < N; i++) await push(sg, 'recover', i, 2);
  process.kill(victim.pid, 'SIGCONT');
  await restart(); // SIGTERM (persists value-1 copies) and start again from that file
  await waitFor(() => settled(sg, pgs, 'recover', N, () => '2'), { timeoutMs: 30_000, what: 'fresh copies everywhere, stale ones gone' });
});

test('strays pushed around shardgate are moved to their owner by the sweep', async () => {
  const pgs = await startPushgateways(2);
  live.push(...pgs);
  const sg = await startShardgate({ config: cfg(pgs), waitReady: true });
  live.push(sg);
  const N = 20;
  // Push straight to the wrong pushgateway, as a misconfigured client would.
  for (let i = 0; i < N; i++) {
    const owner = await ownerOf(sg, `/metrics/job/stray/instance/i${i}`);
    const wrong = pgs.find((p) => p.target !== owner) as TestPushgateway;
    await fetch(`${wrong.url}/metrics/job/stray/instance/i${i}`, { method: 'PUT', body: `work_done_total ${i}\n` });
  }
  await waitFor(() => settled(sg, pgs, 'stray', N, (i) => String(i)), { timeoutMs: 20_000, what: 'the sweep to move every stray' });
});

test('drain: a shard is emptied into the others, reported drained, leaves discovery once empty, and nothing is lost', async () => {
  const pgs = await startPushgateways(3);
  live.push(...pgs);
  const sdFile = join(await mkdtemp(join(tmpdir(), 'shardgate-sd-')), 'shards.json');
  const sg = await startShardgate({ config: cfg(pgs), args: ['--web.enable-admin-api', `--sd.file=${sdFile}`], waitReady: true });
  live.push(sg);
  const N = 120;
  for (let i = 0; i < N; i++) await push(sg, 'drain', i, 5);
  const victim = pgs[0] as TestPushgateway;
  const res = await fetch(`${sg.url}/api/v1/admin/drain?target=${victim.target}`, { method: 'POST' });
  assert.equal(res.status, 202);
  await waitFor(async () => {
    const shards = (await (await fetch(`${sg.url}/api/v1/shards`)).json()) as { data: Array<{ target: string; drain: { state: string } | null; in_ring: boolean }> };
    const s = shards.data.find((x) => x.target === victim.target);
    return s?.drain?.state === 'drained' && !s.in_ring;
  }, { timeoutMs: 30_000, what: 'the drain to finish' });
  assert.equal((await groupsOn(victim.url)).length, 0, 'the drained shard is empty');
  assert.ok(await settled(sg, pgs, 'drain', N, () => '5'));
  // Drained and empty: Prometheus stops scraping it, through http_sd and the sd file alike.
  const sd = (await (await fetch(`${sg.url}/api/v1/sd`)).json()) as Array<{ targets: string[] }>;
  assert.deepEqual(sd.map((g) => g.targets[0]).sort(), [pgs[1]?.target, pgs[2]?.target].sort());
  await waitFor(async () => !(await readFile(sdFile, 'utf8')).includes(victim.target), { what: 'the sd file to drop the drained shard' });
  assert.equal((await fetch(`${sg.url}/api/v1/admin/drain?target=nope:1`, { method: 'POST' })).status, 404);
  // The last shards cannot all be drained: one must stay to take the groups.
  assert.equal((await fetch(`${sg.url}/api/v1/admin/drain?target=${pgs[1]?.target ?? ''}`, { method: 'POST' })).status, 202);
  const last = await fetch(`${sg.url}/api/v1/admin/drain?target=${pgs[2]?.target ?? ''}`, { method: 'POST' });
  assert.equal(last.status, 409, await last.text());
});
