/**
 * Common Pushgateway clients, unmodified, through shardgate's proxy mode:
 * Node's prom-client (`Pushgateway` class), the Go client's push package and
 * the curl commands of Pushgateway's README. (The Python client is in
 * redirect-and-clients.test.ts.) Each pushes (PUT), adds (POST), pushes a gzip
 * body and deletes; the assertions read what the real pushgateways hold
 * afterwards, through shardgate's merged read, and check that exactly one
 * shard holds each group.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Counter, Gauge, Histogram, Pushgateway, Registry } from 'prom-client';
import { familiesOf, type ApiGroup } from '../../src/upstream/metrics-api.js';
import { startPushgateways, type TestPushgateway } from '../support/pushgateway.js';
import { startShardgate, type Shardgate } from '../support/shardgate.js';
import { findGroup, groupsOn, sampleValue } from '../support/pushgateway-api.js';
import { buildGoClient, goClientUnavailable } from '../support/go-client.js';

const run = promisify(execFile);
let pgs: TestPushgateway[] = [];
let sg: Shardgate;
before(async () => {
  pgs = await startPushgateways(3);
  sg = await startShardgate({ config: `targets: [${pgs.map((p) => `"${p.target}"`).join(', ')}]\n`, waitReady: true });
});
after(async () => {
  await sg.stop();
  await Promise.all(pgs.map((p) => p.stop()));
});

/** The group with exactly these grouping labels, as shardgate's merged read shows it; fails unless exactly one shard holds it. */
async function stored(labels: Record<string, string>): Promise<ApiGroup> {
  const holders = (await Promise.all(pgs.map(async (p) => ((await findGroup(p.url, labels)) ? [p.target] : [])))).flat();
  assert.equal(holders.length, 1, `${JSON.stringify(labels)} is held by ${JSON.stringify(holders)}`);
  return (await findGroup(sg.url, labels)) ?? assert.fail(`${JSON.stringify(labels)} missing from shardgate's merged read`);
}
async function absent(labels: Record<string, string>): Promise<void> {
  for (const p of pgs) assert.equal(await findGroup(p.url, labels), undefined, `${JSON.stringify(labels)} still on ${p.target}`);
}
const families = (g: ApiGroup): string[] => familiesOf(g).map(([n]) => n).filter((n) => !n.startsWith('push_')).sort();
const histogramCount = (g: ApiGroup, name: string): string | undefined => familiesOf(g).find(([n]) => n === name)?.[1].metrics[0]?.count;

test('prom-client\'s Pushgateway: push, pushAdd, a gzip push and delete', async () => {
  const registry = new Registry();
  new Counter({ name: 'node_jobs_total', help: 'Jobs processed.', registers: [registry] }).inc(3);
  new Gauge({ name: 'node_last_success', help: 'Last success.', registers: [registry] }).set(1234.5);
  new Histogram({ name: 'node_duration_seconds', help: 'Duration.', buckets: [0.1, 1], registers: [registry] }).observe(0.5);
  const gateway = new Pushgateway(sg.url, {}, registry);
  await gateway.push({ jobName: 'node-batch', groupings: { instance: 'host-1' } });

  const added = new Registry();
  new Gauge({ name: 'node_extra', help: 'Added later.', registers: [added] }).set(7);
  await new Pushgateway(sg.url, {}, added).pushAdd({ jobName: 'node-batch', groupings: { instance: 'host-1' } });
  const batch = await stored({ job: 'node-batch', instance: 'host-1' });
  assert.deepEqual(families(batch), ['node_duration_seconds', 'node_extra', 'node_jobs_total', 'node_last_success']);
  assert.equal(sampleValue(batch, 'node_jobs_total'), '3');
  assert.equal(sampleValue(batch, 'node_extra'), '7');
  assert.equal(histogramCount(batch, 'node_duration_seconds'), '1');

  // prom-client gzips the body when this header is set.
  await new Pushgateway(sg.url, { headers: { 'Content-Encoding': 'gzip' } }, added).push({ jobName: 'node-gzip' });
  assert.equal(sampleValue(await stored({ job: 'node-gzip' }), 'node_extra'), '7');

  await gateway.push({ jobName: 'node-gone', groupings: { instance: 'x' } });
  await stored({ job: 'node-gone', instance: 'x' });
  await gateway.delete({ jobName: 'node-gone', groupings: { instance: 'x' } });
  await absent({ job: 'node-gone', instance: 'x' });
});

test('prom-client cannot push a grouping value with "/": it percent-encodes it, and shardgate answers as a pushgateway does', async () => {
  // prom-client sends instance/host%2F1; Pushgateway decodes %2F into a path
  // separator (no @base64 support in this client), so the key is malformed.
  const registry = new Registry();
  new Gauge({ name: 'node_slash', help: 'h', registers: [registry] }).set(1);
  const viaShardgate = await new Pushgateway(sg.url, {}, registry).push({ jobName: 'node-slash', groupings: { instance: 'host/1' } }).then(() => 'accepted', (e: Error) => e.message);
  const direct = await new Pushgateway(pgs[0]?.url ?? assert.fail(), {}, registry).push({ jobName: 'node-slash', groupings: { instance: 'host/1' } }).then(() => 'accepted', (e: Error) => e.message);
  assert.match(viaShardgate, /^push failed with status 400, .*odd number of components/);
  assert.equal(viaShardgate, direct);
  for (const p of pgs) assert.deepEqual((await groupsOn(p.url)).filter((g) => g.labels['job'] === 'node-slash'), []);
});

const goSkip = goClientUnavailable();
test('the Go client\'s push package: Push (protobuf), Add, a gzip push through its Client hook, Delete; "/" travels as @base64', { skip: goSkip ?? false, timeout: 120_000 }, async (t) => {
  const started = Date.now();
  const binary = await buildGoClient();
  t.diagnostic(`go client ready in ${Date.now() - started} ms (built unless cached)`);
  const { stdout } = await run(binary, [sg.url]);
  assert.equal(stdout.trim(), 'ok');
  const batch = await stored({ job: 'go-batch', instance: 'host/1' });
  assert.deepEqual(families(batch), ['go_duration_seconds', 'go_extra', 'go_jobs_total', 'go_last_success']);
  assert.equal(sampleValue(batch, 'go_jobs_total'), '3');
  assert.equal(sampleValue(batch, 'go_last_success'), '1234.5');
  assert.equal(sampleValue(batch, 'go_extra'), '7');
  assert.equal(histogramCount(batch, 'go_duration_seconds'), '1');
  assert.equal(sampleValue(await stored({ job: 'go-gzip', instance: 'gz' }), 'go_gzipped'), '1');
  await absent({ job: 'go-gone' });
});

test('the curl commands of Pushgateway\'s README, a PUT and a gzip body: pushed, then deleted', async (t) => {
  const script = fileURLToPath(new URL('../../../test/clients/curl/pushgateway-readme.sh', import.meta.url));
  const curlHome = await mkdtemp(join(tmpdir(), 'shardgate-curl-'));
  t.after(() => rm(curlHome, { recursive: true, force: true }));
  await writeFile(join(curlHome, '.curlrc'), '--fail-with-body\n--silent\n--show-error\n');
  const step = (name: string): Promise<unknown> => run('bash', [script, name], { env: { ...process.env, GATEWAY: sg.url, CURL_HOME: curlHome } });

  // 1. The untyped examples, the @base64 and URI-encoded keys, a PUT and a gzip body.
  await step('untyped');
  assert.equal(sampleValue(await stored({ job: 'some_job' }), 'some_metric'), '3.14');
  assert.equal(sampleValue(await stored({ job: 'directory_cleaner', path: '/var/tmp' }), 'some_metric'), '3.14');
  // Both spellings of name="Προμηθεύς" reached the same group: the second push replaced the first.
  assert.equal(sampleValue(await stored({ job: 'titan', name: 'Προμηθεύς' }), 'titan_metric'), '2');
  assert.equal(sampleValue(await stored({ job: 'example', first_label: '', second_label: 'foobar' }), 'empty_label_metric'), '1');
  assert.equal(sampleValue(await stored({ job: 'put_job', instance: 'a' }), 'put_metric'), '5');
  assert.equal(sampleValue(await stored({ job: 'gzipped' }), 'gzipped_metric'), '6');
  await step('delete-untyped');
  await absent({ job: 'some_job' });
  await absent({ job: 'directory_cleaner', path: '/var/tmp' });

  // 2. The typed example (some_metric as a counter now), then its delete.
  await step('typed');
  const typed = await stored({ job: 'some_job', instance: 'some_instance' });
  assert.equal(familiesOf(typed).find(([n]) => n === 'some_metric')?.[1].type, 'COUNTER');
  assert.equal(sampleValue(typed, 'some_metric'), '42');
  assert.equal(sampleValue(typed, 'another_metric'), '2398.283');
  await step('delete-typed');
  await absent({ job: 'some_job', instance: 'some_instance' });
  await stored({ job: 'titan', name: 'Προμηθεύς' });
});
