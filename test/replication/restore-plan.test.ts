import { test } from 'node:test';
import assert from 'node:assert/strict';
import { restorePlan, type StandbyCopy } from '../../src/replication/restore-plan.js';
import { standbyOrder } from '../../src/replication/standby-order.js';
import { buildRing } from '../../src/ring/rendezvous-ring.js';
import { groupId, shardKey, sortedKey } from '../../src/groupingkey/grouping-key.js';

const shards = ['s0:9091', 's1:9091', 's2:9091', 's3:9091'];
const standbys = ['b0:9091', 'b1:9091', 'b2:9091'];
const ring = buildRing(shards);
const key = (i: number) => sortedKey({ job: 'j', instance: `i${i}` });
const copy = (i: number, standby: string, pushTimeSeconds?: number): StandbyCopy<string> => ({ standby, key: key(i), group: `${standby}#${i}`, pushTimeSeconds });

test('only the groups whose home was the dead shard are planned, each once', () => {
  const dead = 's1:9091';
  const copies = Array.from({ length: 400 }, (_, i) => copy(i, standbyOrder(shardKey(key(i)), standbys)[0] ?? '', 1));
  const plan = restorePlan(dead, ring, standbys, copies);
  const expected = copies.filter((c) => ring.owner(shardKey(c.key)) === dead).map((c) => groupId(c.key));
  assert.ok(expected.length > 50, 'the dead shard owned a share of the groups');
  assert.deepEqual(plan.map((c) => groupId(c.key)).sort(), expected.sort());
});

test('a group on two standbys is taken from the one that wrote it last', () => {
  const i = Array.from({ length: 100 }, (_, n) => n).find((n) => ring.owner(shardKey(key(n))) === 's0:9091') ?? -1;
  const [first, second] = standbyOrder(shardKey(key(i)), standbys);
  // The first standby was down during the last write (a fallback went to the second), then came back with its older copy.
  const plan = restorePlan('s0:9091', ring, standbys, [copy(i, first ?? '', 10), copy(i, second ?? '', 20)]);
  assert.deepEqual(plan.map((c) => c.group), [`${second}#${i}`]);
});

test('equal push times go to the earlier standby in rendezvous order', () => {
  const i = Array.from({ length: 100 }, (_, n) => n).find((n) => ring.owner(shardKey(key(n))) === 's2:9091') ?? -1;
  const [first, second] = standbyOrder(shardKey(key(i)), standbys);
  const plan = restorePlan('s2:9091', ring, standbys, [copy(i, second ?? '', 5), copy(i, first ?? '', 5)]);
  assert.deepEqual(plan.map((c) => c.group), [`${first}#${i}`]);
});

test('nothing on the standbys: nothing planned', () => {
  assert.deepEqual(restorePlan('s0:9091', ring, standbys, []), []);
});
