import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/local/free-port.js';
import { type FleetEvent, LocalFleet } from '../../src/local/local-fleet.js';
import { findPushgatewayBinary } from '../../src/local/pushgateway-binary.js';
import { PushgatewayProcess, PushgatewayStartError } from '../../src/local/pushgateway-process.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { type MetricsApiResponse } from '../../src/upstream/metrics-api.js';
import { isGone } from '../support/process-state.js';

const binary = findPushgatewayBinary();

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'shardgate-fleet-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Polls `check` every 20 ms until it returns true; fails after `timeoutMs`. */
async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function healthy(target: string): Promise<boolean> {
  try {
    const res = await fetch(`http://${target}/-/healthy`, { signal: AbortSignal.timeout(1000) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}


async function groupsOf(target: string): Promise<MetricsApiResponse['data']> {
  const res = await fetch(`http://${target}/api/v1/metrics`);
  assert.equal(res.status, 200);
  const body: MetricsApiResponse = await res.json();
  return body.data;
}

test('a fleet of 3 starts, keeps data across a crash, restarts the crashed child and stops cleanly', async (t) => {
  const dataDir = join(await tempDir(t), 'nested', 'data');
  const events: FleetEvent[] = [];
  const fleet = new LocalFleet({
    shards: 3,
    dataDir,
    binary,
    logger: silentLogger(),
    // Persist quickly so the crashed child's data is on disk before we kill it.
    extraArgs: ['--persistence.interval=50ms'],
    restartBackoff: { initialMs: 50, maxMs: 200 },
    onEvent: (e) => events.push(e),
  });
  t.after(() => fleet.stop());

  // Step 1: start; every target answers /-/healthy.
  const targets = await fleet.start();
  assert.equal(targets.length, 3);
  assert.deepEqual(fleet.targets, targets);
  assert.equal(new Set(targets).size, 3);
  for (const target of targets) assert.ok(await healthy(target), `${target} is healthy`);
  const firstPids = fleet.pids();
  assert.equal(firstPids.length, 3);
  assert.deepEqual(
    events.map((e) => [e.type, e.shard]).sort(),
    [['started', 0], ['started', 1], ['started', 2]],
  );

  // Step 2: push a metric to shard 0 and read it back.
  const target0 = targets[0] ?? assert.fail('no target for shard 0');
  const put = await fetch(`http://${target0}/metrics/job/x`, { method: 'PUT', body: 'a 1\n' });
  assert.equal(put.status, 200);
  const groups = await groupsOf(target0);
  assert.ok(groups.some((g) => g.labels['job'] === 'x' && 'a' in g), 'group job=x with family a is listed');
  await eventually('shard 0 persisted its data', async () => {
    const size = await stat(join(dataDir, 'shard-0.data')).then((s) => s.size, () => 0);
    return size > 0;
  });

  // Step 3: crash shard 0; the fleet restarts it on the same target.
  const oldPid = fleet.pid(0) ?? assert.fail('shard 0 has no pid');
  process.kill(oldPid, 'SIGKILL');
  await eventually('shard 0 was restarted', () => fleet.restartCount(0) === 1);
  const newPid = fleet.pid(0) ?? assert.fail('shard 0 has no pid after restart');
  assert.notEqual(newPid, oldPid);
  assert.ok(isGone(oldPid));
  assert.ok(await healthy(target0), 'the restarted shard answers at the same target');
  assert.equal(fleet.restartCount(1) + fleet.restartCount(2), 0);
  const exited = events.find((e) => e.type === 'exited');
  assert.deepEqual(exited, { type: 'exited', shard: 0, target: target0, pid: oldPid, code: null, signal: 'SIGKILL' });
  assert.ok(events.some((e) => e.type === 'restarted' && e.shard === 0 && e.pid === newPid));
  // The persistence file brought the pushed group back.
  assert.ok((await groupsOf(target0)).some((g) => g.labels['job'] === 'x'), 'job=x survived the crash');

  // Step 4: stop; every child is gone when stop() resolves, and stop() is idempotent.
  const livePids = fleet.pids();
  assert.equal(livePids.length, 3);
  await fleet.stop();
  await fleet.stop();
  for (const pid of [...firstPids, ...livePids]) assert.ok(isGone(pid), `pid ${pid} is gone`);
  assert.deepEqual(fleet.pids(), []);
});

test('stop() during a restart backoff clears the timer and restarts nothing', async (t) => {
  const fleet = new LocalFleet({
    shards: 1,
    dataDir: await tempDir(t),
    binary,
    logger: silentLogger(),
    // Long enough that the restart could only happen if the timer survived stop().
    restartBackoff: { initialMs: 60_000, maxMs: 60_000 },
  });
  t.after(() => fleet.stop());
  await fleet.start();
  const pid = fleet.pid(0) ?? assert.fail('shard 0 has no pid');

  process.kill(pid, 'SIGKILL');
  await eventually('the fleet saw shard 0 exit', () => fleet.pid(0) === undefined);
  await fleet.stop();
  assert.equal(fleet.restartCount(0), 0);
  assert.deepEqual(fleet.pids(), []);
  // A timer left behind would keep this test file's process alive for a minute.
});

test('a fleet that cannot start one shard stops the others and rejects', async (t) => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
  const address = blocker.address();
  const busyPort = typeof address === 'object' && address !== null ? address.port : assert.fail('no port');

  const fleet = new LocalFleet({
    shards: 2,
    dataDir: await tempDir(t),
    binary,
    logger: silentLogger(),
    ports: [await freePort(), busyPort],
  });
  t.after(() => fleet.stop());
  await assert.rejects(fleet.start(), PushgatewayStartError);
  assert.deepEqual(fleet.pids(), []);
});

test('PushgatewayProcess.start() on a port already in use fails at once with a clear error', async (t) => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
  const address = blocker.address();
  const port = typeof address === 'object' && address !== null ? address.port : assert.fail('no port');

  const pg = new PushgatewayProcess({ binary, port, persistenceFile: join(await tempDir(t), 'pg.data') });
  t.after(() => pg.stop('SIGKILL', 0));
  const started = Date.now();
  await assert.rejects(pg.start(), (err: unknown) => {
    assert.ok(err instanceof PushgatewayStartError);
    assert.equal(err.reason, 'port-in-use');
    assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port} is already in use`));
    return true;
  });
  assert.ok(Date.now() - started < 2000, 'it fails fast rather than waiting for the start timeout');
  assert.equal(pg.pid, undefined, 'no child was spawned');
});

test('stop() while the fleet is starting leaves no child behind', async (t) => {
  // Stopped before any child was spawned.
  const early = new LocalFleet({ shards: 2, dataDir: await tempDir(t), binary, logger: silentLogger() });
  t.after(() => early.stop());
  const earlyStart = early.start();
  await early.stop();
  await assert.rejects(earlyStart, /stopped while starting/);
  assert.deepEqual(early.pids(), []);

  // Stopped as soon as the first shard is up, while the others may still be starting.
  const seen: number[] = [];
  let stopping: Promise<void> | undefined;
  const late: LocalFleet = new LocalFleet({
    shards: 4,
    dataDir: await tempDir(t),
    binary,
    logger: silentLogger(),
    onEvent: (e) => {
      if (e.pid !== undefined) seen.push(e.pid);
      stopping ??= late.stop();
    },
  });
  t.after(() => late.stop());
  await assert.rejects(late.start(), /stopped while starting/);
  await stopping;
  assert.ok(seen.length >= 1);
  for (const pid of seen) assert.ok(isGone(pid), `pid ${pid} is gone`);
  assert.deepEqual(late.pids(), []);
});
