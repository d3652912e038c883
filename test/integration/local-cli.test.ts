/**
 * `shardgate local` as a user runs it: a fleet of real pushgateway children
 * behind the router, a killed child restarted, every child gone on exit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startShardgate } from '../support/shardgate.js';
import { waitFor } from '../support/wait-for.js';
import { freePort, isPortFree } from '../../src/local/free-port.js';
import { pidsMentioning } from '../support/process-state.js';

async function shardsUp(url: string): Promise<number> {
  const body = (await (await fetch(`${url}/api/v1/shards`)).json()) as { data: Array<{ health: string; in_ring: boolean }> };
  return body.data.filter((s) => s.health === 'up' && s.in_ring).length;
}

test('shardgate local: routes to its fleet, restarts a killed child, stops them all on exit', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'shardgate-local-'));
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  const sg = await startShardgate({ args: ['local', '--shards=3', `--data.dir=${dataDir}`], waitReady: true });
  t.after(() => sg.stop());
  await waitFor(async () => (await shardsUp(sg.url)) === 3, { what: '3 shards up' });
  const pids = await pidsMentioning(dataDir);
  assert.equal(pids.length, 3, 'one pushgateway per shard');
  // Gateway mode is local's default: shardgate checks, its pushgateways do not.
  for (const pid of pids) assert.ok((await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').includes('--push.disable-consistency-check'));

  const res = await fetch(`${sg.url}/metrics/job/local/instance/a`, { method: 'PUT', body: 'l 1\n' });
  assert.equal(res.status, 200);
  const merged = (await (await fetch(`${sg.url}/api/v1/metrics`)).json()) as { data: Array<{ labels: Record<string, string> }> };
  assert.ok(merged.data.some((g) => g.labels['job'] === 'local'));

  const victim = pids[0] ?? -1;
  process.kill(victim, 'SIGKILL');
  await waitFor(async () => {
    const now = await pidsMentioning(dataDir);
    return now.length === 3 && !now.includes(victim) && (await shardsUp(sg.url)) === 3;
  }, { timeoutMs: 30_000, what: 'the killed child to be restarted and healthy' });
  assert.match(sg.logs(), /restart/);

  // Pushed after the SIGKILL above (which loses whatever its child had not persisted yet).
  assert.equal((await fetch(`${sg.url}/metrics/job/local-kept/instance/a`, { method: 'PUT', body: 'k 1\n' })).status, 200);
  const live = await pidsMentioning(dataDir);
  const targets = await shardTargets(sg.url);
  sg.signal('SIGTERM');
  assert.equal(await sg.exited, 0);
  assert.deepEqual(await pidsMentioning(dataDir), [], 'no pushgateway outlives shardgate');
  for (const pid of live) assert.throws(() => process.kill(pid, 0), /ESRCH/);

  // Started again on the same data dir: same addresses (so the same ring), data kept.
  const again = await startShardgate({ args: ['local', '--shards=3', `--data.dir=${dataDir}`], waitReady: true });
  t.after(() => again.stop());
  await waitFor(async () => (await shardsUp(again.url)) === 3, { what: '3 shards up again' });
  assert.deepEqual(await shardTargets(again.url), targets);
  const kept = (await (await fetch(`${again.url}/api/v1/metrics`)).json()) as { data: Array<{ labels: Record<string, string> }> };
  assert.ok(kept.data.some((g) => g.labels['job'] === 'local-kept'), 'the pushed group survived the restart');
});

async function shardTargets(url: string): Promise<string[]> {
  const body = (await (await fetch(`${url}/api/v1/shards`)).json()) as { data: Array<{ target: string }> };
  return body.data.map((s) => s.target).sort();
}

test('shardgate local without a pushgateway binary says what to install', async () => {
  await assert.rejects(
    startShardgate({ args: ['local', '--shards=1', '--pushgateway.binary=/nonexistent/pushgateway'] }),
    /apt-get install prometheus-pushgateway/,
  );
});

test('shardgate local --replicas 3: an embedded etcd, one leader, pushes through any replica, everything gone on exit', { timeout: 120_000 }, async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'shardgate-local-replicas-'));
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  // Three consecutive free ports: the replicas take the two after the first.
  let port = 0;
  for (let attempt = 0; attempt < 20 && port === 0; attempt++) {
    const p = await freePort();
    if (p < 65_000 && (await isPortFree(p + 1)) && (await isPortFree(p + 2))) port = p;
  }
  assert.notEqual(port, 0, 'three consecutive free ports');
  const sg = await startShardgate({ args: ['local', '--shards=2', '--replicas=3', `--data.dir=${dataDir}`], port, waitReady: true });
  t.after(() => sg.stop());
  const urls = [0, 1, 2].map((i) => `http://127.0.0.1:${port + i}`);
  const roles = async (): Promise<string[]> =>
    Promise.all(urls.map(async (u) => ((await (await fetch(`${u}/api/v1/status`).catch(() => undefined))?.json().catch(() => undefined)) as { data?: { replicas?: { role: string } } } | undefined)?.data?.replicas?.role ?? 'none'));
  await waitFor(async () => (await roles()).filter((r) => r === 'leader').length === 1 && !(await roles()).includes('none'), { timeoutMs: 60_000, what: 'one leader among three replicas' });
  for (const [i, u] of urls.entries()) {
    const res = await fetch(`${u}/metrics/job/replicas/instance/r${i}`, { method: 'PUT', body: `r ${i}\n` });
    assert.equal(res.status, 200, `a push through replica ${i + 1}`);
  }
  const merged = (await (await fetch(`${urls[2]!}/api/v1/metrics`)).json()) as { data: Array<{ labels: Record<string, string> }> };
  assert.deepEqual(merged.data.filter((g) => g.labels['job'] === 'replicas').map((g) => g.labels['instance']).sort(), ['r0', 'r1', 'r2']);
  sg.signal('SIGTERM');
  assert.equal(await sg.exited, 0);
  for (const u of urls.slice(1)) assert.equal(await fetch(`${u}/-/healthy`).then(() => 'up', () => 'gone'), 'gone', `${u} stopped with replica 1`);
  assert.deepEqual(await pidsMentioning(dataDir), [], 'no pushgateway outlives shardgate');
});
