/**
 * The races that broke the rebalancer before its protocol was rewritten,
 * replayed against real pushgateways and a real shardgate (docs/rebalancing.md
 * has the invariants; the deterministic simulation explores the
 * interleavings, these show the fixes hold on the real thing):
 * - a group on its owner and on two other shards at once no longer hangs
 *   pushes after a sweep;
 * - groups first POSTed while a shard joins keep every family;
 * - a write a paused pushgateway applies after its caller gave up never
 *   beats an acknowledged write on the new owner;
 * - a PUT in doubt is completed by shardgate, so an older copy is never
 *   merged back under it.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPushgateways, type TestPushgateway } from '../support/pushgateway.js';
import { startShardgate, type Shardgate } from '../support/shardgate.js';
import { copiesOfJob, groupsOn, sampleValue, familyNames } from '../support/pushgateway-api.js';
import { waitFor } from '../support/wait-for.js';

const live: Array<{ stop(): Promise<void> }> = [];
after(async () => {
  for (const x of live.reverse()) await x.stop();
});

const cfg = (pgs: readonly TestPushgateway[], extra = ''): string =>
  `targets: [${pgs.map((p) => `"${p.target}"`).join(', ')}]\nhealth_check: { interval: 200ms, timeout: 500ms, fall: 2, rise: 2 }\n${extra}`;

async function ownerOf(sg: Shardgate, job: string, instance: string): Promise<string> {
  return ((await (await fetch(`${sg.url}/metrics/job/${job}/instance/${instance}`)).json()) as { owner: string }).owner;
}

const body = (family: string, value: number): string => `# TYPE ${family} gauge\n${family} ${value}\n`;

test('a group on its owner and on two other shards: pushes during the sweep all get an answer, one copy remains', async () => {
  const pgs = await startPushgateways(4);
  live.push(...pgs);
  const sg = await startShardgate({ config: cfg(pgs, 'rebalance: { sweep_interval: 500ms }\n'), waitReady: true });
  live.push(sg);
  const N = 40;
  for (let i = 0; i < N; i++) {
    const res = await fetch(`${sg.url}/metrics/job/multi/instance/i${i}`, { method: 'PUT', body: body('v', 1) });
    assert.equal(res.status, 200);
  }
  // Strays with old content straight on other pushgateways: half the groups on two others, half on one.
  for (let i = 0; i < N; i++) {
    const owner = await ownerOf(sg, 'multi', `i${i}`);
    const others = pgs.filter((p) => p.target !== owner).slice(0, i % 2 === 0 ? 2 : 1);
    for (const p of others) await fetch(`${p.url}/metrics/job/multi/instance/i${i}`, { method: 'PUT', body: body('v', 0) });
  }
  // Pushes through shardgate while sweeps resolve the strays: every one is answered.
  for (let round = 2; round <= 6; round++) {
    const answers = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        fetch(`${sg.url}/metrics/job/multi/instance/i${i}`, { method: 'PUT', body: body('v', round), signal: AbortSignal.timeout(20_000) }).then((r) => r.status),
      ),
    );
    assert.deepEqual(new Set(answers), new Set([200]), `round ${round}`);
  }
  await waitFor(async () => {
    const copies = await copiesOfJob(pgs, 'multi');
    for (let i = 0; i < N; i++) {
      const c = copies.get(`i${i}`) ?? [];
      if (c.length !== 1 || c[0]?.target !== (await ownerOf(sg, 'multi', `i${i}`)) || sampleValue(c[0]?.group, 'v') !== '6') return false;
    }
    return true;
  }, { timeoutMs: 30_000, what: 'one copy per group, on its owner, with the last value' });
});

test('groups first POSTed while a shard joins keep every family (9,000 groups stored)', async () => {
  const pgs = await startPushgateways(4, { extraArgs: ['--push.disable-consistency-check'] });
  live.push(...pgs);
  const three = pgs.slice(0, 3);
  const sg = await startShardgate({ config: cfg(three, 'rebalance: { sweep_interval: 1h, max_moves_per_second: 2000 }\n'), args: ['--web.enable-lifecycle'], waitReady: true });
  live.push(sg);
  // Fill the fleet through shardgate, 16 at a time.
  const fill = 9000;
  for (let i = 0; i < fill; i += 16) {
    await Promise.all(Array.from({ length: Math.min(16, fill - i) }, (_, k) => fetch(`${sg.url}/metrics/job/filler/instance/f${i + k}`, { method: 'PUT', body: body('x', 1) })));
  }
  // Add the fourth shard; meanwhile clients create groups with POST, then POST a second family.
  await sg.writeConfig(cfg(pgs, 'rebalance: { sweep_interval: 1h, max_moves_per_second: 2000 }\n'));
  const reload = fetch(`${sg.url}/-/reload`, { method: 'POST' });
  const M = 600;
  const created: number[] = [];
  const clients = Array.from({ length: 8 }, async (_, c) => {
    for (let i = c; i < M; i += 8) {
      const first = await fetch(`${sg.url}/metrics/job/posted/instance/p${i}`, { method: 'POST', body: body('first', i) });
      assert.equal(first.status, 202, await first.text());
      created.push(i);
    }
  });
  assert.equal((await reload).status, 200);
  await Promise.all(clients);
  for (let i = 0; i < M; i += 8) {
    await Promise.all(
      Array.from({ length: Math.min(8, M - i) }, async (_, k) => {
        const res = await fetch(`${sg.url}/metrics/job/posted/instance/p${i + k}`, { method: 'POST', body: body('second', i + k) });
        assert.equal(res.status, 202);
      }),
    );
  }
  assert.equal(created.length, M);
  await waitFor(async () => {
    const shards = (await (await fetch(`${sg.url}/api/v1/shards`)).json()) as { data: Array<{ in_ring: boolean }> };
    const metrics = await (await fetch(`${sg.url}/metrics`)).text();
    return shards.data.every((s) => s.in_ring) && /shardgate_rebalance_pending_moves 0\b/.test(metrics) && /shardgate_rebalance_in_progress 0\b/.test(metrics);
  }, { timeoutMs: 120_000, what: 'the fourth shard to join and every move to finish' });
  const copies = await copiesOfJob(pgs, 'posted');
  const broken: string[] = [];
  for (let i = 0; i < M; i++) {
    const c = copies.get(`p${i}`) ?? [];
    if (c.length !== 1 || familyNames(c[0]?.group).join(',') !== 'first,second') broken.push(`p${i}: ${c.map((x) => `${x.target}[${familyNames(x.group).join(',')}]`).join(' ')}`);
  }
  assert.deepEqual(broken, [], `${broken.length} of ${M} groups lost a family or have two copies`);
  assert.ok((await groupsOn(pgs[3]?.url ?? '')).length > 0, 'the new shard took groups');
});

test('a write a paused pushgateway applies after its caller gave up never beats the acknowledged write on the new owner', async () => {
  const pgs = await startPushgateways(3);
  live.push(...pgs);
  const sg = await startShardgate({ config: cfg(pgs, 'upstream: { response_timeout: 1s }\nrebalance: { sweep_interval: 500ms }\n'), waitReady: true });
  live.push(sg);
  const path = '/metrics/job/indoubt/instance/x';
  const put = (v: number): Promise<Response> => fetch(`${sg.url}${path}`, { method: 'PUT', body: body('v', v) });
  assert.equal((await put(1)).status, 200);
  const first = (await (await fetch(`${sg.url}${path}`)).json()) as { owner: string };
  const paused = pgs.find((p) => p.target === first.owner) as TestPushgateway;
  process.kill(paused.pid, 'SIGSTOP');
  try {
    assert.equal((await put(2)).status, 504, 'the paused shard times out: v2 is in doubt');
    await waitFor(async () => ((await (await fetch(`${sg.url}${path}`)).json()) as { owner: string }).owner !== paused.target, { what: 'the paused shard to leave the ring' });
    assert.equal((await put(3)).status, 200, 'v3 is acknowledged by the new owner');
  } finally {
    process.kill(paused.pid, 'SIGCONT');
  }
  // The resumed pushgateway applies v2 now, with a newer push time than v3's.
  await waitFor(async () => {
    const copies = (await copiesOfJob(pgs, 'indoubt')).get('x') ?? [];
    const owner = ((await (await fetch(`${sg.url}${path}`)).json()) as { owner: string }).owner;
    return copies.length === 1 && copies[0]?.target === owner && owner === paused.target;
  }, { timeoutMs: 30_000, what: 'the resumed shard to be re-admitted and the group to settle on it' });
  const [only] = (await copiesOfJob(pgs, 'indoubt')).get('x') ?? [];
  assert.equal(sampleValue(only?.group, 'v'), '3', 'the acknowledged v3 survives');
});

test('a PUT in doubt on the group’s home is completed by shardgate: an older copy elsewhere is never merged back under it', async () => {
  const pgs = await startPushgateways(3);
  live.push(...pgs);
  const sg = await startShardgate({ config: cfg(pgs, 'upstream: { response_timeout: 1s }\nrebalance: { sweep_interval: 500ms }\n'), waitReady: true });
  live.push(sg);
  const path = '/metrics/job/complete/instance/x';
  const owner = async (): Promise<string> => ((await (await fetch(`${sg.url}${path}`)).json()) as { owner: string }).owner;
  const stopped: TestPushgateway[] = [];
  const stop = async (): Promise<TestPushgateway> => {
    const target = await owner();
    const pg = pgs.find((p) => p.target === target) as TestPushgateway;
    process.kill(pg.pid, 'SIGSTOP');
    stopped.push(pg);
    return pg;
  };
  try {
    // v1: families a and b on the group's first home.
    assert.equal((await fetch(`${sg.url}${path}`, { method: 'PUT', body: body('a', 1) + body('b', 1) })).status, 200);
    const first = await stop();
    await waitFor(async () => (await owner()) !== first.target, { what: 'the first home to leave the ring' });
    // v2: a POST on the second home; the first home's copy is now an older base.
    assert.equal((await fetch(`${sg.url}${path}`, { method: 'POST', body: body('c', 2) })).status, 200);
    const second = await stop();
    // v3: a PUT of family d alone, in doubt: the paused second home applies it when it resumes.
    assert.equal((await fetch(`${sg.url}${path}`, { method: 'PUT', body: body('d', 3) })).status, 504);
    await waitFor(async () => (await owner()) !== second.target, { what: 'the second home to leave the ring' });
  } finally {
    for (const pg of stopped) process.kill(pg.pid, 'SIGCONT');
  }
  // Either v3 applied or it did not; what may never appear is v1's a and b under d.
  await waitFor(async () => {
    const copies = (await copiesOfJob(pgs, 'complete')).get('x') ?? [];
    return copies.length === 1 && copies[0]?.target === (await owner()) && (await (await fetch(`${sg.url}/api/v1/shards`)).json() as { data: Array<{ in_ring: boolean }> }).data.every((s) => s.in_ring);
  }, { timeoutMs: 30_000, what: 'every shard back in the ring and one copy of the group, on its owner' });
  const [only] = (await copiesOfJob(pgs, 'complete')).get('x') ?? [];
  assert.deepEqual(familyNames(only?.group).filter((f) => !f.startsWith('push_')), ['d'], 'shardgate completed the PUT in doubt: the group is v3');
  assert.match(await (await fetch(`${sg.url}/metrics`)).text(), /shardgate_push_in_doubt_settled_total\{result="completed"\} [1-9]/);
});
