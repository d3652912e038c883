/**
 * Membership end to end: a pushgateway dies, its groups' next pushes go to
 * their new owners while every other group stays where it was; it comes back
 * and is re-admitted on its own, and the ring returns to the same layout.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPushgateways, type TestPushgateway } from '../support/pushgateway.js';
import { startShardgate, type Shardgate } from '../support/shardgate.js';
import { findGroup, sampleValue } from '../support/pushgateway-api.js';
import { waitFor } from '../support/wait-for.js';

const GROUPS = 60;
const pathOf = (i: number): string => `/metrics/job/failover/instance/i${i}`;
const labelsOf = (i: number): Record<string, string> => ({ job: 'failover', instance: `i${i}` });

let pgs: TestPushgateway[] = [];
let sg: Shardgate | undefined;
after(async () => {
  await sg?.stop();
  await Promise.all(pgs.map((p) => p.stop()));
});

async function owners(gw: Shardgate): Promise<string[]> {
  return Promise.all(Array.from({ length: GROUPS }, async (_, i) => ((await (await fetch(`${gw.url}${pathOf(i)}`)).json()) as { shard: string }).shard));
}
async function pushAll(gw: Shardgate, value: number): Promise<void> {
  for (let i = 0; i < GROUPS; i++) {
    const res = await fetch(`${gw.url}${pathOf(i)}`, { method: 'PUT', body: `progress ${value}\n` });
    assert.equal(res.status, 200, `push ${i}: ${await res.text()}`);
  }
}
async function inRing(gw: Shardgate, target: string): Promise<boolean> {
  const shards = (await (await fetch(`${gw.url}/api/v1/shards`)).json()) as { data: Array<{ target: string; in_ring: boolean }> };
  return shards.data.some((s) => s.target === target && s.in_ring);
}

test('failover to new owners, others untouched, then automatic re-admission', async () => {
  pgs = await startPushgateways(3);
  sg = await startShardgate({
    config: `targets: [${pgs.map((p) => `"${p.target}"`).join(', ')}]\nhealth_check: { interval: 200ms, timeout: 500ms, fall: 2, rise: 2 }\nrebalance: { enabled: false }\n`,
    waitReady: true,
  });
  const gw = sg;
  await waitFor(async () => (await owners(gw)).every((o) => o !== null) && (await Promise.all(pgs.map((p) => inRing(gw, p.target)))).every(Boolean), { what: 'all 3 in ring' });
  const before = await owners(gw);
  await pushAll(gw, 1);

  const victim = pgs[0];
  assert.ok(victim);
  const victimGroups = before.flatMap((o, i) => (o === victim.target ? [i] : []));
  assert.ok(victimGroups.length > 5, 'the victim owns some groups');
  process.kill(victim.pid, 'SIGKILL');
  await waitFor(async () => !(await inRing(gw, victim.target)), { what: 'the dead shard to leave the ring' });
  assert.match(gw.logs(), /msg="ring published"/);

  const during = await owners(gw);
  await pushAll(gw, 2);
  for (let i = 0; i < GROUPS; i++) {
    if (before[i] === victim.target) {
      assert.notEqual(during[i], victim.target);
      const pg = pgs.find((p) => p.target === during[i]);
      assert.equal(sampleValue(await findGroup(pg?.url ?? '', labelsOf(i)), 'progress'), '2', `group ${i} on its new owner`);
    } else {
      assert.equal(during[i], before[i], `group ${i} must not move`);
      const pg = pgs.find((p) => p.target === before[i]);
      assert.equal(sampleValue(await findGroup(pg?.url ?? '', labelsOf(i)), 'progress'), '2');
    }
  }

  await victim.restart();
  await waitFor(() => inRing(gw, victim.target), { what: 'the restarted shard to be re-admitted' });
  assert.deepEqual(await owners(gw), before, 'same members, same layout');
  await pushAll(gw, 3);
  for (const i of victimGroups) assert.equal(sampleValue(await findGroup(victim.url, labelsOf(i)), 'progress'), '3');
  const shards = (await (await fetch(`${gw.url}/api/v1/shards`)).json()) as { data: Array<{ target: string; health: string }> };
  assert.ok(shards.data.every((s) => s.health === 'up'));
  const metrics = await (await fetch(`${gw.url}/metrics`)).text();
  assert.match(metrics, /shardgate_ring_changes_total [3-9]/);
  assert.match(metrics, /shardgate_health_checks_total\{shard="[^"]+",result="failure"\} [1-9]/);
});
