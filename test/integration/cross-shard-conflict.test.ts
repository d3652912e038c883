/**
 * Two groups that live on different shards and conflict (the same family
 * name pushed as a counter by one and as a gauge by the other). In
 * `gateway` mode the second push is refused with the pushgateway's 400, the
 * conflicting group and its shard, and its group's failure time is stamped
 * (the `push_failure_time_seconds > push_time_seconds` alert fires). In
 * `shard` mode, the control, each pushgateway checks only itself: both
 * pushes are accepted and what Prometheus scrapes from the two shards
 * carries two types for one name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPushgateways } from '../support/pushgateway.js';
import { startShardgate, type Shardgate } from '../support/shardgate.js';
import { findGroup, familyNames, sampleValue } from '../support/pushgateway-api.js';
import { waitFor } from '../support/wait-for.js';
import { pushesHandled } from '../support/pushgateway-stats.js';

async function shardOf(sg: Shardgate, job: string): Promise<string> {
  const res = await fetch(`${sg.url}/metrics/job/${job}`);
  return ((await res.json()) as { shard: string }).shard;
}

/** Two jobs whose groups land on different shards. */
async function jobsOnTwoShards(sg: Shardgate): Promise<[string, string]> {
  const first = await shardOf(sg, 'j0');
  for (let i = 1; ; i++) if ((await shardOf(sg, `j${i}`)) !== first) return ['j0', `j${i}`];
}

async function put(sg: Shardgate, job: string, body: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${sg.url}/metrics/job/${job}`, { method: 'PUT', body });
  return { status: res.status, text: await res.text() };
}

async function start(mode: 'gateway' | 'shard', pushgatewayArgs: string[]): Promise<{ sg: Shardgate; stop: () => Promise<void>; url: (shard: string) => string }> {
  const pgs = await startPushgateways(2, { extraArgs: pushgatewayArgs });
  const sg = await startShardgate({ config: `targets: [${pgs.map((p) => `"${p.target}"`).join(', ')}]\npush: { consistency_check: ${mode} }\nhealth_check: { interval: 200ms, rise: 1 }\n`, waitReady: true });
  await waitFor(async () => (JSON.stringify(await (await fetch(`${sg.url}/api/v1/shards`)).json()).match(/"health":"up"/g) ?? []).length === 2, { what: 'both shards up' });
  return { sg, url: (shard) => `http://${shard}`, stop: async () => void (await Promise.all([sg.stop(), ...pgs.map((p) => p.stop())])) };
}

test('gateway mode: a conflict between groups on two shards is rejected, naming the other group and its shard', async (t) => {
  const fleet = await start('gateway', ['--push.disable-consistency-check']);
  t.after(fleet.stop);
  const [one, two] = await jobsOnTwoShards(fleet.sg);
  assert.deepEqual(await put(fleet.sg, one, '# TYPE conflict counter\nconflict 1\n'), { status: 200, text: '' });
  const refused = await put(fleet.sg, two, '# TYPE conflict gauge\nconflict 1\n');
  assert.equal(refused.status, 400);
  assert.match(refused.text, /^pushed metrics are invalid or inconsistent with existing metrics: collected metric "conflict" .* is not a COUNTER/);
  assert.ok(refused.text.includes(`conflicts with group {job="${one}"} on shard ${await shardOf(fleet.sg, one)}`), refused.text);
  // Nothing of the push was stored; its group holds only the timestamps, the failure one set.
  const shardTwo = fleet.url(await shardOf(fleet.sg, two));
  await waitFor(async () => (await findGroup(shardTwo, { job: two })) !== undefined);
  const group = await findGroup(shardTwo, { job: two });
  assert.deepEqual(familyNames(group), []);
  assert.ok(Number(sampleValue(group, 'push_failure_time_seconds')) > Number(sampleValue(group, 'push_time_seconds')));
  // Both shards still serve /metrics (an inconsistent store would answer 500).
  for (const job of [one, two]) assert.equal((await fetch(`${fleet.url(await shardOf(fleet.sg, job))}/metrics`)).status, 200);
  // A body Pushgateway cannot parse gets its 400 and reaches no pushgateway;
  // a rejected push reaches only its own shard, once, as the failure stamp.
  const shardUrls = [fleet.url(await shardOf(fleet.sg, one)), shardTwo];
  const before = await Promise.all(shardUrls.map(pushesHandled));
  assert.deepEqual(await put(fleet.sg, two, 'conflict{a="1"} 1'), { status: 400, text: 'text format parsing error in line 1: unexpected end of input stream\n' });
  assert.deepEqual(await Promise.all(shardUrls.map(pushesHandled)), before);
  assert.equal((await put(fleet.sg, two, '# TYPE conflict gauge\nconflict 2\n')).status, 400);
  assert.deepEqual(await Promise.all(shardUrls.map(pushesHandled)), [before[0], (before[1] ?? 0) + 1]);
  // The same type is fine.
  assert.deepEqual(await put(fleet.sg, two, '# TYPE conflict counter\nconflict{x="1"} 1\n'), { status: 200, text: '' });
});

test('shard mode (the control): both pushes are accepted and the two shards expose two types for one name', async (t) => {
  const fleet = await start('shard', []);
  t.after(fleet.stop);
  const [one, two] = await jobsOnTwoShards(fleet.sg);
  assert.equal((await put(fleet.sg, one, '# TYPE conflict counter\nconflict 1\n')).status, 200);
  assert.equal((await put(fleet.sg, two, '# TYPE conflict gauge\nconflict 1\n')).status, 200);
  const types = await Promise.all([one, two].map(async (job) => /# TYPE conflict (\w+)/.exec(await (await fetch(`${fleet.url(await shardOf(fleet.sg, job))}/metrics`)).text())?.[1]));
  assert.deepEqual(types, ['counter', 'gauge']);
});
