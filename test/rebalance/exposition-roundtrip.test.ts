/**
 * End to end against real pushgateways (Debian's 1.5.1): a group read from
 * A's /api/v1/metrics, rendered by groupToExposition and PUT to B at the
 * group's upstreamPath, must read back from B family for family as it reads
 * from A (push_time/push_failure_time and time stamps aside).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type GroupingKey, groupId } from '../../src/groupingkey/grouping-key.js';
import { upstreamPath } from '../../src/groupingkey/upstream-path.js';
import { groupToExposition, groupingKeyOf } from '../../src/rebalance/exposition.js';
import { type ApiFamily, type ApiGroup, type ApiMetric, familiesOf, type MetricsApiResponse, PUSHGATEWAY_OWN_FAMILIES } from '../../src/upstream/metrics-api.js';

const BIN = '/usr/bin/prometheus-pushgateway';
const FIXTURE = new URL('../../../test/fixtures/api-v1-metrics-demo-group.json', import.meta.url);

/** Text that a pushgateway turns into a group with every odd value we care about. */
const ODD_KEY: GroupingKey = { job: 'odd/job', instance: '', path: 'a/b' };
const ODD_TEXT = `# HELP g gauge with "odd" values \\\\ and a\\nnewline ✓ 
# TYPE g gauge
g{case="plus_inf"} +Inf
g{case="minus_inf"} -Inf
g{case="nan"} NaN
g{case="tiny"} 5e-324
g{case="neg_zero"} -0
g{case="big"} 1.7976931348623157e+308
g{case="quote",v="say \\"hi\\" \\\\ back\\nslash ✓"} 1
# TYPE c_total counter
c_total 9007199254740992
# HELP lat a summary
# TYPE lat summary
lat{q="x\\"y",quantile="0"} 0.001
lat{q="x\\"y",quantile="0.5"} 0.25
lat{q="x\\"y",quantile="0.99"} +Inf
lat_sum{q="x\\"y"} NaN
lat_count{q="x\\"y"} 18446744073709549568
# TYPE size histogram
size_bucket{le="-1"} 0
size_bucket{le="0.005"} 1
size_bucket{le="1e+06"} 5
size_bucket{le="+Inf"} 7
size_sum 1e+300
size_count 7
`;

test('groupToExposition copies groups between real pushgateways losslessly', { skip: !existsSync(BIN) && `${BIN} not installed` }, async (t) => {
  const a = await startPushgateway(t);
  const b = await startPushgateway(t);

  await t.test('the fixture group (histogram, summary, NaN, -Inf, escaped and UTF-8 label values)', async () => {
    const fixtureGroups: ApiGroup[] = JSON.parse(readFileSync(FIXTURE, 'utf8'));
    const fixture = fixtureGroups[0];
    assert.ok(fixture !== undefined);
    const key = groupingKeyOf(fixture);
    // The fixture's own rendering recreates the fixture on A...
    await put(a, key, groupToExposition(fixture));
    const onA = await readGroup(a, key);
    assert.deepEqual(comparable(onA), comparable(fixture));
    // ...and A's listing, rendered, recreates it on B.
    await put(b, key, groupToExposition(onA));
    assert.deepEqual(comparable(await readGroup(b, key)), comparable(onA));
  });

  await t.test('a group with +Inf, -0, 5e-324, huge counts, quotes, backslashes, newlines and a base64 key', async () => {
    await put(a, ODD_KEY, ODD_TEXT);
    const onA = await readGroup(a, ODD_KEY);
    // Spot checks that A really holds the odd values (so the comparison below means something).
    const g = family(onA, 'g');
    assert.equal(g.help, 'gauge with "odd" values \\ and a\nnewline ✓ ');
    assert.deepEqual(g.metrics.map((m) => m.value).sort(), ['+Inf', '-0', '-Inf', '1', '1.7976931348623157e+308', '5e-324', 'NaN']);
    assert.ok(g.metrics.some((m) => m.labels['v'] === 'say "hi" \\ back\nslash ✓'));
    assert.equal(family(onA, 'lat').metrics[0]?.count, '18446744073709549568');
    assert.equal(family(onA, 'size').metrics[0]?.buckets?.['+Inf'], '7');

    await put(b, ODD_KEY, groupToExposition(onA));
    assert.deepEqual(comparable(await readGroup(b, ODD_KEY)), comparable(onA));
  });
});

/**
 * Labels plus every family except Pushgateway's own, without time stamps,
 * metrics in label order: the JSON lists them in push order, which carries
 * no meaning (Pushgateway's /metrics sorts them) and which the rendering
 * does not keep.
 */
function comparable(group: ApiGroup): { labels: Record<string, string>; families: Record<string, Omit<ApiFamily, 'time_stamp'>> } {
  const families: Record<string, Omit<ApiFamily, 'time_stamp'>> = {};
  for (const [name, fam] of familiesOf(group)) {
    if (PUSHGATEWAY_OWN_FAMILIES.has(name)) continue;
    const { time_stamp: _ignored, metrics, ...rest } = fam;
    const order = (m: ApiMetric): string => JSON.stringify(Object.entries(m.labels).sort());
    families[name] = { ...rest, metrics: [...metrics].sort((x, y) => (order(x) < order(y) ? -1 : order(x) > order(y) ? 1 : 0)) };
  }
  return { labels: { ...group.labels }, families };
}

function family(group: ApiGroup, name: string): ApiFamily {
  const found = familiesOf(group).find(([n]) => n === name);
  assert.ok(found !== undefined, `family ${name} present`);
  return found[1];
}

async function put(base: string, key: GroupingKey, body: string): Promise<void> {
  const res = await fetch(base + upstreamPath(key), { method: 'PUT', body, headers: { 'content-type': 'text/plain; version=0.0.4' } });
  const text = await res.text();
  assert.equal(res.status, 200, `PUT ${upstreamPath(key)}: ${text}`);
}

async function readGroup(base: string, key: GroupingKey): Promise<ApiGroup> {
  const res = await fetch(`${base}/api/v1/metrics`);
  assert.equal(res.status, 200);
  const body: MetricsApiResponse = JSON.parse(await res.text());
  const found = body.data.find((g) => groupId(groupingKeyOf(g)) === groupId(key));
  assert.ok(found !== undefined, `group ${JSON.stringify(key)} listed on ${base}`);
  return found;
}

/**
 * Starts a pushgateway on a free loopback port with its own persistence
 * file, waits until /-/healthy answers, and stops it (by its PID) after the
 * test. Returns its base URL.
 */
async function startPushgateway(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'shardgate-rebalance-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  let lastError = '';
  // The free port may be taken between probing and binding: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn(BIN, [`--web.listen-address=127.0.0.1:${port}`, `--persistence.file=${join(dir, `pushgateway-${attempt}.data`)}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    t.after(() => stop(child));
    const base = `http://127.0.0.1:${port}`;
    if (await healthy(base, child)) return base;
    await stop(child);
    lastError = stderr;
  }
  throw new Error(`pushgateway did not become healthy: ${lastError}`);
}

async function healthy(base: string, child: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
    try {
      const res = await fetch(`${base}/-/healthy`);
      await res.text();
      if (res.status === 200) return true;
    } catch {
      // Not listening yet.
    }
    await sleep(25);
  }
  return false;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}
