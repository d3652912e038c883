import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/local/free-port.js';
import { findPushgatewayBinary } from '../../src/local/pushgateway-binary.js';
import { PushgatewayProcess, PushgatewayStartError } from '../../src/local/pushgateway-process.js';
import { isGone } from '../support/process-state.js';

const binary = findPushgatewayBinary();

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'shardgate-proc-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}


test('start() resolves once healthy; SIGTERM stop persists data and reaps the child', async (t) => {
  const dir = await tempDir(t);
  const pg = new PushgatewayProcess({ binary, port: await freePort(), persistenceFile: join(dir, 'pg.data') });
  t.after(() => pg.stop('SIGKILL', 0));

  await pg.start();
  const pid = pg.pid;
  assert.ok(pid !== undefined && pg.running);
  assert.match(pg.target, /^127\.0\.0\.1:\d+$/);
  assert.equal((await fetch(`http://${pg.target}/-/healthy`)).status, 200);

  const put = await fetch(`http://${pg.target}/metrics/job/persisted`, { method: 'PUT', body: 'kept_metric 7\n' });
  assert.equal(put.status, 200);

  const exit = await pg.stop();
  assert.deepEqual(await pg.exited, exit);
  assert.ok(isGone(pid), 'the child is reaped when stop() resolves');
  assert.equal(pg.running, false);
  // Pushgateway writes its persistence file on SIGTERM.
  assert.match(await readFile(join(dir, 'pg.data'), 'latin1'), /kept_metric/);
  // Stopping again is a no-op.
  assert.deepEqual(await pg.stop(), exit);
});

test('a child that exits early fails start() fast, quoting its stderr', async (t) => {
  const dir = await tempDir(t);
  const pg = new PushgatewayProcess({
    binary,
    port: await freePort(),
    persistenceFile: join(dir, 'pg.data'),
    extraArgs: ['--no-such-flag'],
  });
  t.after(() => pg.stop('SIGKILL', 0));

  await assert.rejects(pg.start(), (err: unknown) => {
    assert.ok(err instanceof PushgatewayStartError);
    assert.equal(err.code, 'SHARDGATE_PUSHGATEWAY_START_FAILED');
    assert.equal(err.reason, 'exited');
    assert.match(err.message, /exited early \(code 1\)/);
    assert.match(err.message, /no-such-flag/);
    return true;
  });
});

test('a binary that never becomes healthy times out and is killed', async (t) => {
  const dir = await tempDir(t);
  const script = join(dir, 'silent-gateway');
  await writeFile(script, '#!/bin/sh\necho "pretending to start" >&2\nexec sleep 30\n');
  await chmod(script, 0o755);
  const pg = new PushgatewayProcess({
    binary: script,
    port: await freePort(),
    persistenceFile: join(dir, 'pg.data'),
    startTimeoutMs: 300,
  });
  t.after(() => pg.stop('SIGKILL', 0));

  await assert.rejects(pg.start(), (err: unknown) => {
    assert.ok(err instanceof PushgatewayStartError);
    assert.equal(err.reason, 'timeout');
    assert.match(err.message, /did not answer 200 within 300 ms/);
    assert.match(err.message, /pretending to start/);
    return true;
  });
  const pid = pg.pid;
  assert.ok(pid !== undefined && isGone(pid), 'a timed-out child is not left running');
});

test('a missing binary fails start() with spawn-failed', async (t) => {
  const dir = await tempDir(t);
  const pg = new PushgatewayProcess({
    binary: join(dir, 'missing'),
    port: await freePort(),
    persistenceFile: join(dir, 'pg.data'),
  });
  await assert.rejects(pg.start(), (err: unknown) => err instanceof PushgatewayStartError && err.reason === 'spawn-failed');
  assert.deepEqual(await pg.exited, { code: null, signal: null });
});

test('options that would fight the flags PushgatewayProcess sets are rejected at construction', () => {
  assert.throws(
    () => new PushgatewayProcess({ binary, port: 9091, persistenceFile: '/x', extraArgs: ['--web.listen-address=:1'] }),
    TypeError,
  );
  assert.throws(() => new PushgatewayProcess({ binary, port: 0, persistenceFile: '/x' }), RangeError);
});

test('freePort returns a bindable port', async () => {
  const port = await freePort();
  assert.ok(Number.isInteger(port) && port > 0 && port < 65536);
});
