import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPushgatewayBinary, PushgatewayNotFoundError } from '../../src/local/pushgateway-binary.js';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'shardgate-bin-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('an explicit path that does not exist throws PushgatewayNotFoundError with a remedy', () => {
  assert.throws(
    () => findPushgatewayBinary('/nonexistent/dir/pushgateway'),
    (err: unknown) => {
      assert.ok(err instanceof PushgatewayNotFoundError);
      assert.equal(err.code, 'SHARDGATE_PUSHGATEWAY_NOT_FOUND');
      assert.match(err.message, /\/nonexistent\/dir\/pushgateway/);
      assert.match(err.message, /apt-get install prometheus-pushgateway/);
      assert.match(err.message, /--pushgateway\.binary=PATH/);
      return true;
    },
  );
});

test('an explicit file that is not executable is rejected', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'pushgateway');
  await writeFile(file, '#!/bin/sh\n');
  await chmod(file, 0o644);
  assert.throws(() => findPushgatewayBinary(file), PushgatewayNotFoundError);
});

test('with nothing in PATH it throws, naming both binaries it looked for', async (t) => {
  const emptyDir = await tempDir(t);
  assert.throws(
    () => findPushgatewayBinary(undefined, emptyDir),
    (err: unknown) => {
      assert.ok(err instanceof PushgatewayNotFoundError);
      assert.match(err.message, /prometheus-pushgateway, pushgateway in PATH/);
      assert.match(err.message, /apt-get install prometheus-pushgateway/);
      return true;
    },
  );
});

test('PATH is searched in order, prometheus-pushgateway before pushgateway', async (t) => {
  const first = await tempDir(t);
  const second = await tempDir(t);
  for (const [dir, name] of [[first, 'pushgateway'], [second, 'prometheus-pushgateway']] as const) {
    await writeFile(join(dir, name), '#!/bin/sh\n');
    await chmod(join(dir, name), 0o755);
  }
  assert.equal(findPushgatewayBinary(undefined, `${first}:${second}`), join(second, 'prometheus-pushgateway'));
  assert.equal(findPushgatewayBinary(undefined, first), join(first, 'pushgateway'));
  // A bare explicit name is looked up in PATH too.
  assert.equal(findPushgatewayBinary('pushgateway', `${first}:${second}`), join(first, 'pushgateway'));
});

test('the installed pushgateway is found, explicitly and in PATH', () => {
  assert.equal(findPushgatewayBinary('/usr/bin/prometheus-pushgateway'), '/usr/bin/prometheus-pushgateway');
  assert.match(findPushgatewayBinary(), /\/(prometheus-)?pushgateway$/);
});
