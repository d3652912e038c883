/**
 * An expiry delete is recorded like a client DELETE: a copy of the group on
 * a shard that was away when the group expired (so the delete's fan-out
 * missed it) is deleted when the shard returns, not adopted as the group.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPushgateways, type TestPushgateway } from '../support/pushgateway.js';
import { startShardgate } from '../support/shardgate.js';
import { findGroup } from '../support/pushgateway-api.js';
import { waitFor } from '../support/wait-for.js';

const live: Array<{ stop(): Promise<void> }> = [];
after(async () => {
  for (const x of live.reverse()) await x.stop();
});

interface ShardRow {
  target: string;
  health: string;
  in_ring: boolean;
}

test('a copy the expiry delete could not reach does not come back when its shard returns', async () => {
  const pgs = await startPushgateways(2);
  live.push(...pgs);
  const sg = await startShardgate({
    config: `targets: [${pgs.map((p) => `"${p.target}"`).join(', ')}]
health_check: { interval: 200ms, timeout: 500ms, fall: 2, rise: 2 }
rebalance: { sweep_interval: 1h }
expiry: { interval: 200ms, rules: [{ match: '{job="ghost"}', max_age: 4s }] }
`,
    waitReady: true,
  });
  live.push(sg);
  // A group whose owner is the first shard; the second gets a copy behind shardgate's back.
  let instance = '';
  for (let i = 0; instance === ''; i++) {
    const where = (await (await fetch(`${sg.url}/metrics/job/ghost/instance/g${i}`)).json()) as { owner: string };
    if (where.owner === pgs[0]?.target) instance = `g${i}`;
  }
  const [home, away] = pgs as [TestPushgateway, TestPushgateway];
  assert.equal((await fetch(`${sg.url}/metrics/job/ghost/instance/${instance}`, { method: 'PUT', body: 'ghost_value 1\n' })).status, 200);
  assert.equal((await fetch(`${away.url}/metrics/job/ghost/instance/${instance}`, { method: 'PUT', body: 'ghost_value 0\n' })).status, 200);

  // The second shard stops answering (paused) and leaves the ring before the group expires.
  process.kill(away.pid, 'SIGSTOP');
  let resumed = false;
  live.push({ stop: async () => void (resumed || process.kill(away.pid, 'SIGCONT')) });
  const shards = async (): Promise<ShardRow[]> => ((await (await fetch(`${sg.url}/api/v1/shards`)).json()) as { data: ShardRow[] }).data;
  await waitFor(async () => (await shards()).some((s) => s.target === away.target && !s.in_ring), { timeoutMs: 10_000, what: 'the paused shard to leave the ring' });

  // The group expires on its home; the fan-out could not reach the paused shard.
  await waitFor(async () => (await findGroup(home.url, { job: 'ghost', instance })) === undefined, { timeoutMs: 15_000, what: 'the group to expire' });

  // The shard returns with its copy: the rebalancer deletes it before re-admitting the shard.
  process.kill(away.pid, 'SIGCONT');
  resumed = true;
  await waitFor(async () => (await shards()).some((s) => s.target === away.target && s.in_ring), { timeoutMs: 15_000, what: 'the shard to rejoin the ring' });
  assert.equal(await findGroup(away.url, { job: 'ghost', instance }), undefined, 'the old copy is still on the returning shard');
  assert.equal(await findGroup(home.url, { job: 'ghost', instance }), undefined, 'the old copy was adopted: the expired group came back');
});
