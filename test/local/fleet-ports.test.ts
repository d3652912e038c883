import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fleetPorts } from '../../src/local/fleet-ports.js';

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'shardgate-ports-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('a restarted fleet gets the same ports back', async (t) => {
  const dir = await tempDir(t);
  const first = await fleetPorts(dir, 3, '127.0.0.1');
  assert.equal(new Set(first).size, 3);
  assert.deepEqual(await fleetPorts(dir, 3, '127.0.0.1'), first);
  assert.deepEqual(JSON.parse(await readFile(join(dir, 'ports.json'), 'utf8')), { ports: first });
});

test('a remembered port that is taken now is replaced; growing the fleet keeps the others', async (t) => {
  const dir = await tempDir(t);
  const first = await fleetPorts(dir, 2, '127.0.0.1');
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(first[0], '127.0.0.1', () => r()));
  t.after(() => new Promise<void>((r) => blocker.close(() => r())));
  const next = await fleetPorts(dir, 3, '127.0.0.1');
  assert.notEqual(next[0], first[0]);
  assert.equal(next[1], first[1]);
  assert.equal(new Set(next).size, 3);
});

test('an unreadable ports.json means fresh ports, not a failure', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'ports.json'), '{not json');
  assert.equal((await fleetPorts(dir, 2, '127.0.0.1')).length, 2);
});
