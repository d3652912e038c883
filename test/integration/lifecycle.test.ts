/**
 * Operating shardgate: reload (SIGHUP and POST /-/reload), a bad reload that
 * keeps the old config, the file_sd output, the original system's config
 * file, and graceful shutdown that finishes in-flight requests.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPushgateways, type TestPushgateway } from '../support/pushgateway.js';
import { startShardgate } from '../support/shardgate.js';
import { waitFor } from '../support/wait-for.js';
import { ConsulFake } from '../support/consul-fake.js';

let pgs: TestPushgateway[] = [];
before(async () => {
  pgs = await startPushgateways(3);
});
after(async () => {
  await Promise.all(pgs.map((p) => p.stop()));
});
const targetList = (ps: TestPushgateway[]): string => `[${ps.map((p) => `"${p.target}"`).join(', ')}]`;
async function members(url: string): Promise<string[]> {
  const sd = (await (await fetch(`${url}/api/v1/sd`)).json()) as Array<{ targets: string[] }>;
  return sd.flatMap((g) => g.targets).sort();
}
const sortedTargets = (ps: TestPushgateway[]): string[] => ps.map((p) => p.target).sort();

test('reload by SIGHUP and by POST /-/reload; a bad reload keeps the old config and says why', async (t) => {
  const [a, b, c] = pgs as [TestPushgateway, TestPushgateway, TestPushgateway];
  const sg = await startShardgate({ config: `targets: ${targetList([a, b])}\nhealth_check: { interval: 200ms }\n`, args: ['--web.enable-lifecycle'], waitReady: true });
  t.after(() => sg.stop());
  await waitFor(async () => (await members(sg.url)).length === 2, { what: 'two members' });

  await sg.writeConfig(`targets: ${targetList([a, b, c])}\nhealth_check: { interval: 200ms }\n`);
  sg.signal('SIGHUP');
  await waitFor(async () => JSON.stringify(await members(sg.url)) === JSON.stringify(sortedTargets([a, b, c])), { what: 'SIGHUP reload to add a shard' });

  await sg.writeConfig(`targets: ${targetList([a])}\nhealth_check: { interval: 200ms }\n`);
  const ok = await fetch(`${sg.url}/-/reload`, { method: 'POST' });
  assert.equal(ok.status, 200);
  assert.deepEqual(await members(sg.url), [a.target]);

  await sg.writeConfig(`targets: ${targetList([a, b])}\nhealth_check: { intervall: 1s }\n`);
  const bad = await fetch(`${sg.url}/-/reload`, { method: 'POST' });
  assert.equal(bad.status, 500);
  assert.match(await bad.text(), /health_check\.intervall: unknown key/);
  assert.deepEqual(await members(sg.url), [a.target], 'the old config stays in force');
  assert.match(await (await fetch(`${sg.url}/metrics`)).text(), /shardgate_config_last_reload_successful 0/);
  assert.match(sg.logs(), /configuration reload failed; keeping the previous configuration/);

  // Rejected late (no targets) after settings that parse: none of them is applied.
  await sg.writeConfig(`targets: []\nmode: redirect\nupstream: { response_timeout: 1ms }\n`);
  const empty = await fetch(`${sg.url}/-/reload`, { method: 'POST' });
  assert.equal(empty.status, 500);
  assert.match(await empty.text(), /no pushgateway targets configured/);
  const push = await fetch(`${sg.url}/metrics/job/still_proxied`, { method: 'PUT', body: 'x 1\n', redirect: 'manual' });
  assert.equal(push.status, 200, 'still proxy mode, with the old timeouts');
  assert.deepEqual(await members(sg.url), [a.target]);

  // Reloads at the same time run one after the other and all succeed.
  await sg.writeConfig(`targets: ${targetList([a, b])}\nhealth_check: { interval: 200ms }\n`);
  const together = await Promise.all([1, 2, 3].map(() => fetch(`${sg.url}/-/reload`, { method: 'POST' })));
  assert.deepEqual(together.map((r) => r.status), [200, 200, 200]);
  await waitFor(async () => (await members(sg.url)).length === 2, { what: 'the concurrent reloads to add b' });
});

test('the lifecycle API is off unless enabled', async (t) => {
  const sg = await startShardgate({ config: `targets: ${targetList(pgs)}\n` });
  t.after(() => sg.stop());
  assert.equal((await fetch(`${sg.url}/-/reload`, { method: 'POST' })).status, 403);
  assert.equal((await fetch(`${sg.url}/api/v1/admin/wipe`, { method: 'PUT' })).status, 404);
});

test("the original dynamic-sharding.yml starts shardgate unchanged: its pushgateways are registered in Consul, and --sd.file is written", async (t) => {
  const [a, b] = pgs as [TestPushgateway, TestPushgateway];
  const port = a.target.split(':')[1] ?? '';
  const sdFile = join(tmpdir(), `shardgate-sd-${process.pid}.json`);
  t.after(() => rm(sdFile, { force: true }));
  // The Consul agent (a fake that really probes the registered HTTP checks).
  const consul = new ConsulFake();
  await consul.start();
  consul.probeChecks = true;
  t.after(() => consul.close());
  // dynamic-sharding lists IPs and one shared port; host:port entries are accepted too.
  const sg2 = await startShardgate({
    config: `consul_server:\n  addr: ${consul.address}\n  username:\n  password:\n  register_service_name: pushgateway\nhttp_listen_addr: :9292\npushgateway:\n  port: ${port}\n  servers:\n    - 127.0.0.1\n    - ${b.target}\n`,
    args: [`--sd.file=${sdFile}`],
    waitReady: true,
  });
  t.after(() => sg2.stop());
  await waitFor(async () => (await members(sg2.url)).length === 2, { what: 'both legacy servers in the ring' });
  assert.deepEqual(await members(sg2.url), sortedTargets([a, b]));
  assert.deepEqual([...consul.instances.keys()].sort(), [a, b].map((p) => p.target.replace(':', '_')).sort());
  assert.match(sg2.logs(), /membership follows its passing instances/);
  const file = JSON.parse(await readFile(sdFile, 'utf8')) as Array<{ targets: string[] }>;
  assert.deepEqual(file.flatMap((g) => g.targets).sort(), sortedTargets([a, b]));
});

test('SIGTERM: stops accepting, finishes the in-flight push, exits 0', async (t) => {
  const pg = pgs[0] as TestPushgateway;
  const sg = await startShardgate({ config: `targets: ["${pg.target}"]\n`, waitReady: true });
  t.after(() => sg.stop());
  // Freeze the pushgateway so the push is in flight when SIGTERM arrives.
  process.kill(pg.pid, 'SIGSTOP');
  const inFlight = fetch(`${sg.url}/metrics/job/graceful`, { method: 'PUT', body: 'g 1\n' });
  await waitFor(async () => /shardgate_requests_in_flight 1/.test(await (await fetch(`${sg.url}/metrics`)).text()), { what: 'the push to be in flight' });
  sg.signal('SIGTERM');
  await waitFor(() => sg.logs().includes('shutting down'), { what: 'shutdown to begin' });
  await assert.rejects(fetch(`${sg.url}/-/healthy`), 'no new connections are accepted');
  process.kill(pg.pid, 'SIGCONT');
  const res = await inFlight;
  assert.equal(res.status, 200, 'the in-flight push completed');
  assert.equal(await sg.exited, 0);
});
