/**
 * Clients as they exist in the field: a client that follows 307 redirects
 * (redirect mode, as the original system), and the official Python client
 * (`prometheus_client`, Debian's python3-prometheus-client) through proxy
 * mode, where the original system's 307 problem cannot arise.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { startPushgateways, type TestPushgateway } from '../support/pushgateway.js';
import { startShardgate } from '../support/shardgate.js';
import { findGroup, sampleValue } from '../support/pushgateway-api.js';

let pgs: TestPushgateway[] = [];
before(async () => {
  pgs = await startPushgateways(3);
});
after(async () => {
  await Promise.all(pgs.map((p) => p.stop()));
});
const targets = (): string => `targets: [${pgs.map((p) => `"${p.target}"`).join(', ')}]\n`;
const holder = async (labels: Record<string, string>): Promise<TestPushgateway[]> => {
  const found: TestPushgateway[] = [];
  for (const pg of pgs) if (await findGroup(pg.url, labels)) found.push(pg);
  return found;
};

test('redirect mode: 307 to the owner, and a following client lands there', async (t) => {
  const sg = await startShardgate({ config: `${targets()}mode: redirect\n`, waitReady: true });
  t.after(() => sg.stop());
  const manual = await fetch(`${sg.url}/metrics/job/redir/instance/a`, { method: 'PUT', body: 'r 1\n', redirect: 'manual' });
  assert.equal(manual.status, 307);
  const location = manual.headers.get('location') ?? '';
  const owner = ((await (await fetch(`${sg.url}/metrics/job/redir/instance/a`)).json()) as { shard: string }).shard;
  assert.equal(location, `http://${owner}/metrics/job/redir/instance/a`);

  const followed = await fetch(`${sg.url}/metrics/job/redir/instance/a`, { method: 'PUT', body: 'r 2\n', redirect: 'follow' });
  assert.equal(followed.status, 200);
  const found = await holder({ job: 'redir', instance: 'a' });
  assert.deepEqual(found.map((p) => p.target), [owner]);
  assert.equal(sampleValue(await findGroup(found[0]?.url ?? '', { job: 'redir', instance: 'a' }), 'r'), '2');
});

const PYTHON = '/usr/bin/python3';
const hasPythonClient = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import prometheus_client'], { encoding: 'utf8' }).status === 0;

test('the Python prometheus_client pushes, adds and deletes through proxy mode', { skip: hasPythonClient ? false : 'python3-prometheus-client is not installed' }, async (t) => {
  const sg = await startShardgate({ config: targets(), waitReady: true });
  t.after(() => sg.stop());
  const gateway = sg.url.replace('http://', '');
  const script = `
import sys
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, push_to_gateway, pushadd_to_gateway, delete_from_gateway
r = CollectorRegistry()
Counter('py_jobs', 'Jobs processed', registry=r).inc(3)
Gauge('py_last_success', 'Last success', registry=r).set(1234.5)
Histogram('py_duration_seconds', 'Duration', registry=r, buckets=(0.1, 1)).observe(0.5)
push_to_gateway(sys.argv[1], job='py-batch', grouping_key={'instance': 'host/1'}, registry=r)
r2 = CollectorRegistry()
Gauge('py_extra', 'Added later', registry=r2).set(7)
pushadd_to_gateway(sys.argv[1], job='py-batch', grouping_key={'instance': 'host/1'}, registry=r2)
push_to_gateway(sys.argv[1], job='py-gone', registry=r)
delete_from_gateway(sys.argv[1], job='py-gone')
print('ok')
`;
  const run = await new Promise<{ status: number | null; out: string }>((resolve) => {
    import('node:child_process').then(({ execFile }) => {
      execFile(PYTHON, ['-c', script, gateway], { encoding: 'utf8' }, (err, stdout, stderr) => resolve({ status: err ? 1 : 0, out: stdout + stderr }));
    }, () => resolve({ status: 1, out: 'cannot spawn' }));
  });
  assert.equal(run.status, 0, run.out);
  // The client base64-encodes "host/1"; the group lands on exactly one shard with the decoded value.
  const labels = { job: 'py-batch', instance: 'host/1' };
  const found = await holder(labels);
  assert.equal(found.length, 1);
  const group = await findGroup(found[0]?.url ?? '', labels);
  assert.equal(sampleValue(group, 'py_jobs_total'), '3');
  assert.equal(sampleValue(group, 'py_extra'), '7');
  assert.equal(sampleValue(group, 'py_last_success'), '1234.5');
  assert.deepEqual(await holder({ job: 'py-gone' }), []);
});
