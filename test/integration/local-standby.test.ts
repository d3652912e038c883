/**
 * `shardgate local --standby`: one standby pushgateway per shard, never in
 * discovery, and every push mirrored to one of them before the answer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startShardgate } from '../support/shardgate.js';
import { waitFor } from '../support/wait-for.js';
import { pidsMentioning } from '../support/process-state.js';

test('local --standby: a standby per shard, outside discovery, written on every push; all gone on exit', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'shardgate-standby-'));
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  const sg = await startShardgate({ args: ['local', '--shards=2', '--standby', `--data.dir=${dataDir}`], waitReady: true });
  t.after(() => sg.stop());
  await waitFor(async () => (await pidsMentioning(join(dataDir, 'standby'))).length === 2, { what: '2 standbys running' });
  assert.equal((await pidsMentioning(dataDir)).length, 4, '2 shards and 2 standbys');
  // Standbys run unchecked like the shards in gateway mode.
  for (const pid of await pidsMentioning(join(dataDir, 'standby'))) assert.ok((await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').includes('--push.disable-consistency-check'));

  const sd = (await (await fetch(`${sg.url}/api/v1/sd`)).json()) as Array<{ targets: string[] }>;
  assert.equal(sd.flatMap((g) => g.targets).length, 2, 'only the shards are discovered');

  assert.equal((await fetch(`${sg.url}/metrics/job/standby/instance/a`, { method: 'PUT', body: 's 1\n' })).status, 200);
  assert.equal((await fetch(`${sg.url}/metrics/job/standby/instance/a`, { method: 'DELETE' })).status, 202);
  const metrics = await (await fetch(`${sg.url}/metrics`)).text();
  assert.match(metrics, /shardgate_replication_standby_writes_total\{result="ok"\} 2/);

  sg.signal('SIGTERM');
  assert.equal(await sg.exited, 0);
  assert.deepEqual(await pidsMentioning(dataDir), [], 'no pushgateway outlives shardgate');
});
