/**
 * What a client sees when the owning pushgateway misbehaves: refused → 502,
 * hung → 504 (never a hang), none healthy → 503. Each case uses one real
 * pushgateway, killed or stopped with SIGSTOP.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPushgateway } from '../support/pushgateway.js';
import { startShardgate } from '../support/shardgate.js';
import { waitFor } from '../support/wait-for.js';

test('refused connection: 502 naming the shard', async (t) => {
  const pg = await startPushgateway();
  t.after(() => pg.stop());
  // A long interval: nothing but our own push notices the death.
  const sg = await startShardgate({ config: `targets: ["${pg.target}"]\nhealth_check: { interval: 1h, fall: 2 }\n`, waitReady: true });
  t.after(() => sg.stop());
  process.kill(pg.pid, 'SIGKILL');
  await waitFor(async () => (await fetch(`${pg.url}/-/healthy`).catch(() => undefined)) === undefined, { what: 'the pushgateway to be gone' });
  const res = await fetch(`${sg.url}/metrics/job/x`, { method: 'PUT', body: 'a 1\n' });
  assert.equal(res.status, 502);
  assert.match(await res.text(), new RegExp(`pushgateway ${pg.target.replace(/\./g, '\\.')} refused the connection`));
});

test('hung pushgateway: 504 after the response timeout, then recovery', async (t) => {
  const pg = await startPushgateway();
  t.after(async () => {
    process.kill(pg.pid, 'SIGCONT');
    await pg.stop();
  });
  const sg = await startShardgate({ config: `targets: ["${pg.target}"]\nhealth_check: { interval: 1h }\nupstream: { response_timeout: 300ms }\n`, waitReady: true });
  t.after(() => sg.stop());
  process.kill(pg.pid, 'SIGSTOP');
  const res = await fetch(`${sg.url}/metrics/job/x`, { method: 'PUT', body: 'a 1\n' });
  assert.equal(res.status, 504);
  assert.match(await res.text(), /did not answer in time/);
  process.kill(pg.pid, 'SIGCONT');
  const ok = await fetch(`${sg.url}/metrics/job/x`, { method: 'PUT', body: 'a 1\n' });
  assert.equal(ok.status, 200);
});

test('no healthy shard: 503 that says so, and /-/ready follows', async (t) => {
  const pg = await startPushgateway();
  t.after(() => pg.stop());
  const sg = await startShardgate({ config: `targets: ["${pg.target}"]\nhealth_check: { interval: 100ms, fall: 1, rise: 1 }\n`, waitReady: true });
  t.after(() => sg.stop());
  process.kill(pg.pid, 'SIGKILL');
  await waitFor(async () => (await fetch(`${sg.url}/-/ready`)).status === 503, { what: '/-/ready to fail' });
  const res = await fetch(`${sg.url}/metrics/job/x`, { method: 'PUT', body: 'a 1\n' });
  assert.equal(res.status, 503);
  assert.match(await res.text(), /no healthy pushgateway/);
  await pg.restart();
  await waitFor(async () => (await fetch(`${sg.url}/-/ready`)).status === 200, { what: 're-admission' });
  assert.equal((await fetch(`${sg.url}/metrics/job/x`, { method: 'PUT', body: 'a 1\n' })).status, 200);
});

test('start-up without any target is refused with a clear message', async () => {
  await assert.rejects(startShardgate({ config: 'mode: proxy\n' }), /no pushgateway targets configured/);
});
