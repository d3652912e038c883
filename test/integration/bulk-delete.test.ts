/**
 * Bulk delete by matchers against real pushgateways: 1,000 groups over 4
 * shards; `GET /api/v1/groups?match[]=...` lists exactly the matching ones
 * with their shard; `DELETE` on the same URL removes exactly those and
 * answers with counts per shard; without the admin API it is refused.
 * (A push between the listing and the delete is covered at the function
 * level in test/expiry/delete-if-unchanged.test.ts, where it can be placed
 * deterministically.)
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPushgateways, type TestPushgateway } from '../support/pushgateway.js';
import { startShardgate } from '../support/shardgate.js';
import { groupsOn } from '../support/pushgateway-api.js';

const live: Array<{ stop(): Promise<void> }> = [];
after(async () => {
  for (const x of live.reverse()) await x.stop();
});

const N = 1000;
const ENVS = ['stg', 'stg-eu', 'prod', undefined] as const;
const groupOf = (i: number): { job: string; env: string | undefined; instance: string } => ({ job: i % 2 === 0 ? 'a' : 'b', env: ENVS[Math.floor(i / 2) % 4], instance: `i${i}` });
const pathOf = (g: ReturnType<typeof groupOf>): string => `/metrics/job/${g.job}${g.env === undefined ? '' : `/env/${g.env}`}/instance/${g.instance}`;
const selected = (g: ReturnType<typeof groupOf>): boolean => g.job === 'a' && g.env !== undefined && g.env.startsWith('stg');

interface Counts {
  deleted: number;
  skipped: number;
  gone: number;
  failed: number;
}

test('1,000 groups over 4 shards: list and delete {job="a", env=~"stg.*"}; exactly those go; refused without the admin API', async () => {
  const pgs = await startPushgateways(4);
  live.push(...pgs);
  const cfg = `targets: [${pgs.map((p) => `"${p.target}"`).join(', ')}]\nhealth_check: { interval: 200ms, timeout: 1s }\n`;
  const sg = await startShardgate({ config: cfg, args: ['--web.enable-admin-api'], waitReady: true });
  live.push(sg);

  // 1,000 groups: jobs a and b, env stg, stg-eu, prod or none.
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < N) {
        const g = groupOf(next++);
        const res = await fetch(`${sg.url}${pathOf(g)}`, { method: 'PUT', body: `bulk_e2e 1\n` });
        assert.equal(res.status, 200, await res.text());
      }
    }),
  );
  const want = Array.from({ length: N }, (_, i) => groupOf(i)).filter(selected).map((g) => g.instance).sort();
  assert.equal(want.length, 250);

  // The listing: exactly the matching groups, each with the shard that holds it.
  const match = encodeURIComponent('{job="a", env=~"stg.*"}');
  const listed = (await (await fetch(`${sg.url}/api/v1/groups?match[]=${match}`)).json()) as { data: Array<{ labels: Record<string, string>; shard: string; routed: boolean }> };
  assert.deepEqual(listed.data.map((g) => g.labels['instance']).sort(), want);
  assert.ok(listed.data.every((g) => g.routed && pgs.some((p) => p.target === g.shard)));
  const perShard = new Map<string, number>();
  for (const g of listed.data) perShard.set(g.shard, (perShard.get(g.shard) ?? 0) + 1);
  assert.equal(perShard.size, 4, 'the matching groups are spread over all four shards');
  // Several match[]: any selector matches (OR); an absent label is the empty value.
  const either = (await (await fetch(`${sg.url}/api/v1/groups?match[]=${encodeURIComponent('{job="b", env="prod"}')}&match[]=${encodeURIComponent('{job="a", env=""}')}`)).json()) as { data: unknown[] };
  assert.equal(either.data.length, 250);

  // Bad requests.
  assert.equal((await fetch(`${sg.url}/api/v1/groups`)).status, 400);
  const bad = await fetch(`${sg.url}/api/v1/groups?match[]=${encodeURIComponent('{job=~"("}')}`);
  assert.equal(bad.status, 400);
  assert.match(await bad.text(), /invalid regex for job/);

  // Without the admin API the delete is refused as Pushgateway refuses its disabled admin endpoints (404), and nothing goes.
  const noAdmin = await startShardgate({ config: cfg, waitReady: true });
  live.push(noAdmin);
  const refused = await fetch(`${noAdmin.url}/api/v1/groups?match[]=${match}`, { method: 'DELETE' });
  assert.equal(refused.status, 404);
  assert.match(await refused.text(), /admin API is disabled \(start with --web.enable-admin-api\)/);
  assert.equal((await fetch(`${noAdmin.url}/api/v1/groups?match[]=${match}`)).status, 200);

  // The delete: counts per shard add up to the listing.
  const res = await fetch(`${sg.url}/api/v1/groups?match[]=${match}`, { method: 'DELETE' });
  assert.equal(res.status, 200);
  const answer = ((await res.json()) as { data: Counts & { shards: Record<string, Counts> } }).data;
  assert.deepEqual({ deleted: answer.deleted, skipped: answer.skipped, gone: answer.gone, failed: answer.failed }, { deleted: 250, skipped: 0, gone: 0, failed: 0 });
  for (const [shard, n] of perShard) assert.equal(answer.shards[shard]?.deleted, n, shard);

  // Exactly the matching groups are gone from every shard; the other 750 are there, once each.
  const left = (await Promise.all(pgs.map((p: TestPushgateway) => groupsOn(p.url)))).flat().filter((g) => g.labels['job'] === 'a' || g.labels['job'] === 'b');
  const leftInstances = left.map((g) => g.labels['instance'] ?? '');
  assert.equal(leftInstances.length, N - 250);
  assert.equal(new Set(leftInstances).size, N - 250);
  assert.ok(!leftInstances.some((i) => want.includes(i)));
  assert.equal(((await (await fetch(`${sg.url}/api/v1/groups?match[]=${match}`)).json()) as { data: unknown[] }).data.length, 0);
  assert.match(await (await fetch(`${sg.url}/metrics`)).text(), /shardgate_bulk_delete_groups_total\{result="deleted"\} 250/);
});
