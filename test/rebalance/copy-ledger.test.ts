import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CopyLedger } from '../../src/rebalance/copy-ledger.js';
import { buildRing } from '../../src/ring/rendezvous-ring.js';
import { groupId, shardKey, type GroupingKey } from '../../src/groupingkey/grouping-key.js';

const ring = buildRing(['a:1', 'b:1', 'c:1']);
/** A key the ring gives to `owner`. */
function keyOwnedBy(owner: string, job = 'j'): GroupingKey {
  for (let i = 0; ; i++) {
    const key: GroupingKey = { job, instance: `i${i}` };
    if (ring.owner(shardKey(key)) === owner) return key;
  }
}

test('after a failover, a PUT on the new home marks the lost copy stale; POSTs mark it base; a DELETE makes it stale again', () => {
  const ledger = new CopyLedger();
  ledger.lose('a:1', ring);
  const put = keyOwnedBy('a:1');
  const posted = keyOwnedBy('a:1', 'posted');
  ledger.written('PUT', put, groupId(put), 'b:1');
  assert.equal(ledger.mark(groupId(put), 'a:1'), 'stale');
  // A POST after a PUT does not turn a stale copy into a base.
  ledger.written('POST', put, groupId(put), 'b:1');
  assert.equal(ledger.mark(groupId(put), 'a:1'), 'stale');
  ledger.written('POST', posted, groupId(posted), 'c:1');
  assert.equal(ledger.mark(groupId(posted), 'a:1'), 'base');
  ledger.written('DELETE', posted, groupId(posted), 'c:1');
  assert.equal(ledger.mark(groupId(posted), 'a:1'), 'stale');
});

test("a write that reaches another shard than the group's last write, without a move, marks the last one (a failover the ring never saw)", () => {
  const ledger = new CopyLedger();
  const key = keyOwnedBy('b:1');
  ledger.written('POST', key, groupId(key), 'b:1');
  ledger.written('POST', key, groupId(key), 'c:1');
  assert.equal(ledger.mark(groupId(key), 'b:1'), 'base');
  ledger.movedTo(groupId(key), 'a:1');
  ledger.written('PUT', key, groupId(key), 'a:1');
  assert.equal(ledger.mark(groupId(key), 'a:1'), undefined, 'a move makes the new shard the home: no mark');
});

test('groups the lost shard did not own, and writes before the loss, mark nothing', () => {
  const ledger = new CopyLedger();
  const key = keyOwnedBy('b:1');
  ledger.written('PUT', key, groupId(key), 'b:1');
  ledger.lose('a:1', ring);
  ledger.written('PUT', key, groupId(key), 'b:1');
  assert.equal(ledger.mark(groupId(key), 'a:1'), undefined);
  assert.equal(ledger.size, 0);
});

test('a group routed to the lost shard by an override is covered too', () => {
  const ledger = new CopyLedger();
  const key = keyOwnedBy('b:1');
  ledger.loseGroup(groupId(key), 'c:1');
  ledger.written('PUT', key, groupId(key), 'b:1');
  assert.equal(ledger.mark(groupId(key), 'c:1'), 'stale');
});

test('a write that lands on a marked shard, resolving, finding or forgetting the shard clear the marks', () => {
  const ledger = new CopyLedger();
  const key = keyOwnedBy('a:1');
  const id = groupId(key);
  ledger.deleteMissed(id, 'c:1');
  ledger.written('PUT', key, id, 'c:1');
  assert.equal(ledger.mark(id, 'c:1'), undefined, 'the write rewrote the copy there');
  ledger.deleteMissed(id, 'c:1');
  ledger.resolved(id, 'c:1');
  assert.equal(ledger.size, 0);
  ledger.lose('a:1', ring);
  ledger.found('a:1');
  ledger.written('PUT', key, id, 'b:1');
  assert.equal(ledger.mark(id, 'a:1'), undefined, 'a found shard is no longer a lost home');
  assert.equal(ledger.mark(id, 'c:1'), 'stale', 'the last write went to c:1: a PUT elsewhere without a move makes that copy stale');
  ledger.resolved(id, 'c:1');
  ledger.deleteMissed(id, 'b:1');
  ledger.lose('b:1', ring);
  assert.deepEqual([...ledger.shards()].sort(), ['b:1']);
  ledger.forgetShard('b:1');
  assert.equal(ledger.size, 0);
  assert.equal(ledger.shards().size, 0);
});

test('a POST may not land on an older copy: a failover target is cleared first, a base waits for the newest content', () => {
  const ledger = new CopyLedger();
  const key = keyOwnedBy('a:1');
  const id = groupId(key);
  ledger.written('PUT', key, id, 'a:1');
  assert.equal(ledger.beforePost(id, key, 'a:1'), undefined, 'at home: nothing in the way');
  // a:1 fails; the group's content is there, so whatever b:1 holds is a stray.
  assert.equal(ledger.beforePost(id, key, 'b:1'), 'stale');
  ledger.clearedForPost(id, 'b:1');
  assert.equal(ledger.beforePost(id, key, 'b:1'), undefined, 'once cleared, the POST may go');
  ledger.written('POST', key, id, 'b:1');
  assert.equal(ledger.mark(id, 'a:1'), 'base');
  // b:1 fails in turn and a:1, holding the older base, becomes the target: its POSTs wait.
  assert.equal(ledger.beforePost(id, key, 'a:1'), 'older');
  ledger.forgetShard('b:1');
  assert.equal(ledger.beforePost(id, key, 'a:1'), undefined, 'the newest content left the configuration: nothing to wait for');
});

test('bases are merged newest first', () => {
  const ledger = new CopyLedger();
  const key = keyOwnedBy('a:1');
  const id = groupId(key);
  ledger.written('POST', key, id, 'a:1');
  ledger.written('POST', key, id, 'b:1');
  ledger.written('POST', key, id, 'c:1');
  assert.equal(ledger.mark(id, 'a:1'), 'base');
  assert.equal(ledger.mark(id, 'b:1'), 'base');
  assert.equal(ledger.newestBase(id), 'b:1');
  ledger.resolved(id, 'b:1');
  assert.equal(ledger.newestBase(id), 'a:1');
});

test('a newer base read without the group makes the older bases stale; a snapshot older than a mark cannot resolve it', () => {
  const ledger = new CopyLedger();
  const key = keyOwnedBy('a:1');
  const id = groupId(key);
  ledger.written('POST', key, id, 'a:1');
  ledger.written('POST', key, id, 'b:1');
  const before = ledger.markSeq;
  ledger.written('POST', key, id, 'c:1');
  assert.equal(ledger.markedSince(id, before), true, 'b:1 was marked after the round began reading');
  // a:1 (older) and b:1 (newer) are bases; b:1 is found empty.
  ledger.baseGone(id, 'b:1');
  assert.equal(ledger.mark(id, 'b:1'), undefined);
  assert.equal(ledger.mark(id, 'a:1'), 'stale');
});
