/**
 * Push API end to end: clients → shardgate (proxy mode) → 3 real
 * pushgateways. Every assertion reads the pushgateways themselves.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { startPushgateways, type TestPushgateway } from '../support/pushgateway.js';
import { startShardgate, type Shardgate } from '../support/shardgate.js';
import { findGroup, groupsOn, sampleValue, familyNames } from '../support/pushgateway-api.js';
import { rawRequest } from '../support/raw-request.js';

let pgs: TestPushgateway[] = [];
let sg: Shardgate;

before(async () => {
  pgs = await startPushgateways(3);
  sg = await startShardgate({
    config: `targets: [${pgs.map((p) => `"${p.target}"`).join(', ')}]\nhealth_check: { interval: 200ms, timeout: 500ms }\n`,
    args: ['--web.enable-admin-api'],
    waitReady: true,
  });
});
after(async () => {
  await sg?.stop();
  await Promise.all(pgs.map((p) => p.stop()));
});

async function owner(path: string): Promise<string> {
  const res = await fetch(`${sg.url}${path}`);
  const body = (await res.json()) as { shard: string };
  return body.shard;
}
const pgFor = (target: string): TestPushgateway => {
  const pg = pgs.find((p) => p.target === target);
  assert.ok(pg, `no pushgateway ${target}`);
  return pg;
};
async function holders(labels: Record<string, string>): Promise<string[]> {
  const out: string[] = [];
  for (const pg of pgs) if (await findGroup(pg.url, labels)) out.push(pg.target);
  return out;
}

test('PUT replaces, POST merges, DELETE removes: checked on the owning pushgateway', async () => {
  const path = '/metrics/job/semantics/instance/a';
  const labels = { job: 'semantics', instance: 'a' };
  let res = await fetch(`${sg.url}${path}`, { method: 'PUT', body: 'x 1\ny 2\n' });
  assert.equal(res.status, 200);
  const target = await owner(path);
  assert.deepEqual(await holders(labels), [target], 'exactly the owner holds the group');
  const pg = pgFor(target);
  assert.deepEqual(familyNames(await findGroup(pg.url, labels)), ['x', 'y']);

  res = await fetch(`${sg.url}${path}`, { method: 'POST', body: 'x 10\nz 3\n' });
  assert.equal(res.status, 200);
  let g = await findGroup(pg.url, labels);
  assert.deepEqual(familyNames(g), ['x', 'y', 'z'], 'POST keeps y');
  assert.equal(sampleValue(g, 'x'), '10');

  res = await fetch(`${sg.url}${path}`, { method: 'PUT', body: 'z 4\n' });
  assert.equal(res.status, 200);
  g = await findGroup(pg.url, labels);
  assert.deepEqual(familyNames(g), ['z'], 'PUT replaces the whole group');

  res = await fetch(`${sg.url}${path}`, { method: 'DELETE' });
  assert.equal(res.status, 202);
  assert.deepEqual(await holders(labels), []);
});

test("the pushgateway's own answer passes through unchanged (400 for a bad body)", async () => {
  const res = await fetch(`${sg.url}/metrics/job/badbody`, { method: 'PUT', body: 'not a metric line\n' });
  assert.equal(res.status, 400);
  assert.match(await res.text(), /text format parsing error/);
});

test('gzip and protobuf-delimited bodies stream through unparsed', async () => {
  let res = await fetch(`${sg.url}/metrics/job/gz`, { method: 'PUT', body: gzipSync('gz_metric 7\n'), headers: { 'content-encoding': 'gzip' } });
  assert.equal(res.status, 200);
  assert.equal(sampleValue(await findGroup(pgFor(await owner('/metrics/job/gz')).url, { job: 'gz' }), 'gz_metric'), '7');
  // A delimited MetricFamily{name:"pb", type:GAUGE, metric:[{gauge:{value:1}}]}.
  const mf = Buffer.from([0x0a, 0x02, 0x70, 0x62, 0x18, 0x01, 0x22, 0x0b, 0x12, 0x09, 0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f]);
  const delimited = Buffer.concat([Buffer.from([mf.length]), mf]);
  res = await fetch(`${sg.url}/metrics/job/pb`, {
    method: 'PUT',
    body: delimited,
    headers: { 'content-type': 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited' },
  });
  assert.equal(res.status, 200, await res.text());
  assert.equal(sampleValue(await findGroup(pgFor(await owner('/metrics/job/pb')).url, { job: 'pb' }), 'pb'), '1');
});

test('every spelling of one group reaches the same shard and the same group', async () => {
  const valid = [
    '/metrics/job/spell/b@base64/eC95/a/1',
    '/metrics/job@base64/c3BlbGw=/a@base64/MQ/b@base64/eC95',
    '/metrics/job/spell/job/ignored/a/1/b@base64/eC95',
  ];
  const owners = new Set(await Promise.all(valid.map((p) => owner(p))));
  assert.equal(owners.size, 1);
  for (const [i, p] of valid.entries()) {
    const res = await fetch(`${sg.url}${p}`, { method: 'PUT', body: `spelled ${i}\n` });
    assert.equal(res.status, 200, p);
  }
  const labels = { job: 'spell', a: '1', b: 'x/y' };
  assert.deepEqual(await holders(labels), [...owners]);
  assert.equal(sampleValue(await findGroup(pgFor([...owners][0] ?? '').url, labels), 'spelled'), String(valid.length - 1));
  // instance="" and no instance expose the same series: same shard.
  assert.equal(await owner('/metrics/job/spell/a/1/b@base64/eC95/instance@base64/='), [...owners][0]);
});

test("bad keys get Pushgateway's 400 and never reach a pushgateway", async () => {
  const before = await Promise.all(pgs.map((p) => groupsOn(p.url)));
  const cases: Array<[string, number, RegExp]> = [
    ['/metrics/job/a/b', 400, /^odd number of components in label string "\/b"/],
    ['/metrics/job/a/__name__/x', 400, /^improper label name "__name__"/],
    ['/metrics/job/a/1bad/x', 400, /^improper label name "1bad"/],
    ['/metrics/job@base64/=', 400, /^job name is required/],
    ['/metrics/job/a/l@base64/***', 400, /^invalid base64 encoding for label l="\*\*\*"/],
    ['/metrics/job/a/l/%zz', 400, /invalid URL escape/],
  ];
  for (const [path, status, message] of cases) {
    const res = await rawRequest(sg.url, 'PUT', path, 'x 1\n');
    assert.equal(res.status, status, path);
    assert.match(res.body, message, path);
  }
  const after = await Promise.all(pgs.map((p) => groupsOn(p.url)));
  assert.deepEqual(after.map((g) => g.length), before.map((g) => g.length));
});

test('paths outside /metrics/job never reach admin or lifecycle endpoints, whatever the encoding', async () => {
  await fetch(`${sg.url}/metrics/job/survivor`, { method: 'PUT', body: 's 1\n' });
  const attacks = [
    '/metrics/job/../../api/v1/admin/wipe',
    '/metrics/job/%2e%2e/%2e%2e/api/v1/admin/wipe',
    '/metrics/job/x%2F..%2F..%2Fapi%2Fv1%2Fadmin%2Fwipe',
    '/metrics/job/%2E%2E%2F%2E%2E%2F-%2Fquit',
  ];
  for (const path of attacks) {
    const res = await rawRequest(sg.url, 'PUT', path, '');
    assert.ok(res.status === 301 || res.status === 404, `${path}: ${res.status}`);
  }
  assert.deepEqual((await holders({ job: 'survivor' })).length, 1, 'nothing was wiped');
  for (const pg of pgs) assert.equal((await fetch(`${pg.url}/-/healthy`)).status, 200, 'no pushgateway quit');
});

test('GET on a push path answers which shard owns the key', async () => {
  const res = await fetch(`${sg.url}/metrics/job/lookup/instance/i`);
  assert.equal(res.status, 200);
  const body = (await res.json()) as { grouping_key: Record<string, string>; shard: string; owner: string };
  assert.deepEqual(body.grouping_key, { instance: 'i', job: 'lookup' });
  assert.ok(pgs.some((p) => p.target === body.shard));
  assert.equal(body.owner, body.shard, 'nothing is moving: pushes go to the ring owner');
});

test('inspection, discovery and merged reads', async () => {
  await fetch(`${sg.url}/metrics/job/merged/n/1`, { method: 'PUT', body: 'm 1\n' });
  await fetch(`${sg.url}/metrics/job/merged/n/2`, { method: 'PUT', body: 'm 2\n' });
  const shards = (await (await fetch(`${sg.url}/api/v1/shards`)).json()) as { data: Array<{ target: string; health: string; in_ring: boolean; last_check: string }> };
  assert.deepEqual(shards.data.map((s) => s.target).sort(), pgs.map((p) => p.target).sort());
  assert.ok(shards.data.every((s) => s.health === 'up' && s.in_ring && s.last_check));

  const sd = (await (await fetch(`${sg.url}/api/v1/sd`)).json()) as Array<{ targets: string[]; labels: Record<string, string> }>;
  assert.deepEqual(sd.flatMap((g) => g.targets).sort(), pgs.map((p) => p.target).sort());
  assert.ok(sd.every((g) => g.labels['__meta_shardgate_shard'] === g.targets[0]));

  const merged = (await (await fetch(`${sg.url}/api/v1/metrics`)).json()) as { status: string; data: Array<{ labels: Record<string, string> }> };
  assert.equal(merged.status, 'success');
  const total = (await Promise.all(pgs.map((p) => groupsOn(p.url)))).reduce((n, g) => n + g.length, 0);
  assert.equal(merged.data.length, total, 'the union of every shard');
  assert.equal(merged.data.filter((g) => g.labels['job'] === 'merged').length, 2);

  const status = (await (await fetch(`${sg.url}/api/v1/status`)).json()) as { data: { build_information: { version: string }; ring: { members: string[] } } };
  assert.ok(status.data.build_information.version);
  assert.equal(status.data.ring.members.length, 3);
});

test('own telemetry on /metrics', async () => {
  const text = await (await fetch(`${sg.url}/metrics`)).text();
  for (const name of ['shardgate_requests_total', 'shardgate_forward_duration_seconds_bucket', 'shardgate_healthy_shards 3', 'shardgate_ring_changes_total', 'shardgate_health_checks_total', 'process_cpu_seconds_total']) {
    assert.ok(text.includes(name), `missing ${name}`);
  }
  assert.match(text, /shardgate_requests_total\{method="PUT",code="200",shard="127\.0\.0\.1:\d+"\} \d+/);
});

test('admin wipe fans out to every shard', async () => {
  await fetch(`${sg.url}/metrics/job/w1`, { method: 'PUT', body: 'w 1\n' });
  const res = await fetch(`${sg.url}/api/v1/admin/wipe`, { method: 'PUT' });
  assert.equal(res.status, 202);
  for (const pg of pgs) assert.equal((await groupsOn(pg.url)).length, 0);
});
