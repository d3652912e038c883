/**
 * delete-if-unchanged against real pushgateways: a group changed between
 * the read and the delete (pushed to its shard, or acknowledged through
 * shardgate) is left alone; an unchanged one goes from every shard and is
 * reported to the coordinator as an acknowledged DELETE.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPushgateways, type TestPushgateway } from '../support/pushgateway.js';
import { findGroup } from '../support/pushgateway-api.js';
import { UpstreamPools } from '../../src/upstream/upstream-pools.js';
import { PushgatewayClient } from '../../src/upstream/pushgateway-client.js';
import { defaultConfig } from '../../src/config/load-config.js';
import { GroupLocks } from '../../src/rebalance/group-locks.js';
import { buildRing } from '../../src/ring/rendezvous-ring.js';
import { type GroupingKey, groupId } from '../../src/groupingkey/grouping-key.js';
import { deleteIfUnchanged, type DeleteObserver, type ReadGroup } from '../../src/expiry/delete-if-unchanged.js';
import { readFleetGroups } from '../../src/expiry/fleet-groups.js';

const live: Array<{ stop(): Promise<void> }> = [];
after(async () => {
  for (const x of live.reverse()) await x.stop();
});

async function put(pg: TestPushgateway, instance: string, value: number): Promise<void> {
  const res = await fetch(`${pg.url}/metrics/job/d/instance/${instance}`, { method: 'PUT', body: `x ${value}\n` });
  assert.equal(res.status, 200);
}

/** Records what the coordinator would be told; lastClientPush is set by the test. */
class RecordingObserver implements DeleteObserver {
  readonly calls: string[] = [];
  readonly lastPush = new Map<string, number>();
  writeBegins(_id: string, key: GroupingKey, target: string): void {
    this.calls.push(`begin ${key['instance'] ?? ''} ${target}`);
  }
  writeEnds(_id: string, key: GroupingKey, target: string, method: string, acknowledged: boolean): void {
    this.calls.push(`end ${key['instance'] ?? ''} ${target} ${method} ${acknowledged}`);
  }
  deleteFanOut(target: string): Array<{ shard: string; reachable: boolean }> {
    return this.shards.filter((s) => s !== target).map((shard) => ({ shard, reachable: true }));
  }
  deleteMissed(_id: string, shard: string): void {
    this.calls.push(`missed ${shard}`);
  }
  inDoubt(): undefined {
    return undefined;
  }
  lastClientPush(id: string): number | undefined {
    return this.lastPush.get(id);
  }
  constructor(readonly shards: string[]) {}
}

test('a group changed after it was read is not deleted; an unchanged one goes from every shard', async () => {
  const pgs = await startPushgateways(2);
  live.push(...pgs);
  const [home, other] = pgs as [TestPushgateway, TestPushgateway];
  const pools = new UpstreamPools(defaultConfig().upstream);
  live.push({ stop: () => pools.close() });
  const client = new PushgatewayClient(pools);
  const observer = new RecordingObserver([home.target, other.target]);
  const deps = { locks: new GroupLocks(), routing: () => ({ ring: buildRing([home.target]), overrides: new Map<string, string>() }), client, observer, timeoutMs: 5000 };

  // Four groups on their home; a stray copy of "same" on the other shard.
  for (const i of ['same', 'repushed', 'via-shardgate', 'vanished']) await put(home, i, 1);
  await put(other, 'same', 0);
  const key = (instance: string): GroupingKey => ({ job: 'd', instance });
  observer.lastPush.set(groupId(key('via-shardgate')), 1000);

  // The read (what a sweep or a listing sees).
  const fleet = await readFleetGroups(client, [home.target], 5000);
  const read: ReadGroup[] = fleet.copies.map((c) => ({ key: c.key, shard: c.shard, pushTimeSeconds: c.pushTimeSeconds, lastClientPushMs: observer.lastClientPush(c.id) }));
  assert.equal(read.length, 4);

  // Between the read and the delete: a push straight to the shard, a push acknowledged through
  // shardgate (the coordinator's last client push changes), and a delete by someone else.
  await put(home, 'repushed', 2);
  observer.lastPush.set(groupId(key('via-shardgate')), 2000);
  await fetch(`${home.url}/metrics/job/d/instance/vanished`, { method: 'DELETE' });

  const results = await deleteIfUnchanged(deps, read);
  const outcome = Object.fromEntries(results.map((r) => [r.group.key['instance'], r.outcome]));
  assert.deepEqual(outcome, { same: 'deleted', repushed: 'skipped', 'via-shardgate': 'skipped', vanished: 'gone' });

  // "same" is gone from both shards; the others are as they were.
  assert.equal(await findGroup(home.url, { job: 'd', instance: 'same' }), undefined);
  assert.equal(await findGroup(other.url, { job: 'd', instance: 'same' }), undefined);
  assert.ok(await findGroup(home.url, { job: 'd', instance: 'repushed' }));
  assert.ok(await findGroup(home.url, { job: 'd', instance: 'via-shardgate' }));
  // Reported like a client DELETE acknowledged by the group's home.
  assert.deepEqual(observer.calls, [`begin same ${home.target}`, `end same ${home.target} DELETE true`]);
});

test('a push in flight holds the delete back until it is answered, and then the group has changed', async () => {
  const [pg] = await startPushgateways(1);
  assert.ok(pg);
  live.push(pg);
  const pools = new UpstreamPools(defaultConfig().upstream);
  live.push({ stop: () => pools.close() });
  const client = new PushgatewayClient(pools);
  const observer = new RecordingObserver([pg.target]);
  const locks = new GroupLocks();
  const deps = { locks, routing: () => ({ ring: buildRing([pg.target]), overrides: new Map<string, string>() }), client, observer, timeoutMs: 5000 };
  await put(pg, 'busy', 1);
  const fleet = await readFleetGroups(client, [pg.target], 5000);
  const read = fleet.copies.map((c) => ({ key: c.key, shard: c.shard, pushTimeSeconds: c.pushTimeSeconds, lastClientPushMs: undefined }));
  // A push of the group holds its shared lock (as PushRouter does) while the delete starts.
  const id = groupId({ job: 'd', instance: 'busy' });
  assert.equal(locks.acquireShared(id), undefined);
  const deleting = deleteIfUnchanged(deps, read);
  await put(pg, 'busy', 2);
  observer.lastPush.set(id, Date.now());
  locks.releaseShared(id);
  assert.deepEqual((await deleting).map((r) => r.outcome), ['skipped']);
  assert.ok(await findGroup(pg.url, { job: 'd', instance: 'busy' }));
});
