/**
 * Membership from Prometheus file_sd files, end to end with real
 * pushgateways: a file renamed into place and a file edited in place add
 * pushgateways (they join the ring and groups move to them); a live one
 * removed from the file is drained with nothing lost, then dropped; an
 * invalid file leaves the ring as it was while pushes keep succeeding; the
 * file's labels reach Prometheus through http_sd.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPushgateways, type TestPushgateway } from '../support/pushgateway.js';
import { startShardgate } from '../support/shardgate.js';
import { groupsOn } from '../support/pushgateway-api.js';
import { waitFor } from '../support/wait-for.js';
import { pushValue, ringMembers, settledOn, shards } from '../support/sourced-fleet.js';

const live: Array<{ stop(): Promise<void> }> = [];
after(async () => {
  for (const x of live.reverse()) await x.stop();
});

const group = (pgs: readonly TestPushgateway[], zone: string): string => JSON.stringify([{ targets: pgs.map((p) => p.target), labels: { zone } }]);

test('file_sd: pushgateways added by rename and by edit join; a removed live one is drained losslessly; an invalid file changes nothing', async () => {
  const pgs = await startPushgateways(3);
  live.push(...pgs);
  const [a, b, c] = pgs as [TestPushgateway, TestPushgateway, TestPushgateway];
  const dir = await mkdtemp(join(tmpdir(), 'shardgate-sd-in-'));
  live.push({ stop: () => rm(dir, { recursive: true, force: true }) });
  await mkdir(join(dir, 'out'));
  await writeFile(join(dir, 'first.json'), group([a], 'eu'));
  const sg = await startShardgate({
    config: `membership:\n  file_sd: { files: ["${dir}/*.json"], refresh_interval: 1s }\n  remove_after: 300ms\nhealth_check: { interval: 200ms, timeout: 1s }\nrebalance: { sweep_interval: 1s }\n`,
    args: [`--sd.file=${join(dir, 'out', 'shards.json')}`],
    waitReady: true,
  });
  live.push(sg);
  assert.deepEqual(await ringMembers(sg), [a.target]);
  const N = 60;
  for (let i = 0; i < N; i++) await pushValue(sg, 'fsd', i, 1);

  // Step 1: a second file renamed into place adds b; groups move to it.
  await writeFile(join(dir, '.second.json.tmp'), group([b], 'us'));
  await rename(join(dir, '.second.json.tmp'), join(dir, 'second.json'));
  await waitFor(async () => (await ringMembers(sg)).join() === [a.target, b.target].sort().join(), { what: 'b to join the ring' });
  await waitFor(() => settledOn(sg, pgs, 'fsd', N, '1'), { timeoutMs: 20_000, what: 'groups to move to b' });
  assert.ok((await groupsOn(b.url)).length > 0);

  // Step 2: the first file edited in place adds c.
  await writeFile(join(dir, 'first.json'), group([a, c], 'eu'));
  await waitFor(async () => (await ringMembers(sg)).includes(c.target), { what: 'c to join the ring' });
  await waitFor(() => settledOn(sg, pgs, 'fsd', N, '1'), { timeoutMs: 20_000, what: 'groups to move to c' });
  assert.ok((await groupsOn(c.url)).length > 0);
  const sd = (await (await fetch(`${sg.url}/api/v1/sd`)).json()) as Array<{ targets: string[]; labels: Record<string, string> }>;
  assert.equal(sd.find((g) => g.targets[0] === b.target)?.labels['__meta_shardgate_zone'], 'us', 'file labels reach http_sd');
  await waitFor(async () => (await readFile(join(dir, 'out', 'shards.json'), 'utf8').catch(() => '')).includes('"__meta_shardgate_zone": "us"'), { what: 'file labels in the --sd.file' });

  // Step 3: b is removed while live: drained (its groups move), then dropped; every group readable with its value.
  const onB = (await groupsOn(b.url)).length;
  assert.ok(onB > 0);
  await rm(join(dir, 'second.json'));
  await waitFor(async () => !(await shards(sg)).data.some((s) => s.target === b.target), { timeoutMs: 20_000, what: 'b to be drained and dropped' });
  assert.equal((await groupsOn(b.url)).length, 0, 'b was emptied before it was dropped');
  assert.ok(await settledOn(sg, pgs, 'fsd', N, '1'), 'nothing lost');
  assert.match(sg.logs(), /target left the membership source: draining.*|msg="target left the membership source: draining"/);

  // Step 4: a half-written file: the ring stays, pushes keep succeeding, the status says why.
  const before = await ringMembers(sg);
  await writeFile(join(dir, 'first.json'), '[{"targets": [');
  await waitFor(async () => !(await shards(sg)).membership.healthy, { what: 'the source to report the invalid file' });
  const st = (await shards(sg)).membership;
  assert.equal(st.kind, 'file_sd');
  assert.match(st.last_error ?? '', /first\.json/);
  for (let i = 0; i < N; i++) await pushValue(sg, 'fsd', i, 2);
  await new Promise((r) => setTimeout(r, 1500)); // past remove_after and a refresh: nothing may leave
  assert.deepEqual(await ringMembers(sg), before);
  assert.ok(await settledOn(sg, pgs, 'fsd', N, '2'));
  const metrics = await (await fetch(`${sg.url}/metrics`)).text();
  assert.match(metrics, /shardgate_membership_source_up\{kind="file_sd"\} 0/);
  assert.match(metrics, /shardgate_membership_source_updates_total\{kind="file_sd",result="failure"\} [1-9]/);
  assert.equal(sg.logs().split('\n').filter((l) => l.includes('membership source failing')).length, 1, 'one log line, not one per read');
});
