/**
 * Replication end to end, against real pushgateways: 4 shards and 4
 * standbys. 500 groups are pushed (twice, so "last value" means something),
 * a few of the victim's groups are deleted by the client, then the victim
 * is SIGKILLed and its persistence file removed. With replication every
 * acknowledged group is back on a live shard with its last value, and no
 * deleted group comes back; without it (the control), the victim's groups
 * are gone.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { startPushgateways, type TestPushgateway } from '../support/pushgateway.js';
import { startShardgate, type Shardgate } from '../support/shardgate.js';
import { groupsOn, sampleValue } from '../support/pushgateway-api.js';
import { waitFor } from '../support/wait-for.js';

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

async function scenario(replication: boolean): Promise<{ victimGroups: number[]; deleted: number[]; survivors: TestPushgateway[]; gw: Shardgate }> {
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

  process.kill(victim.pid, 'SIGKILL');
  await rm(victim.dataFile, { force: true });
  await waitFor(async () => !(await inRing(gw, victim.target)), { what: 'the dead shard to leave the ring' });
  return { victimGroups, deleted, survivors: shards.slice(1), gw };
}

test('replication on: every acknowledged group of a SIGKILLed shard is back on a live shard with its last value; deleted ones stay deleted', async () => {
  const { victimGroups, deleted, survivors, gw } = await scenario(true);
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
