import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupLocks } from '../../src/rebalance/group-locks.js';

test('shared holders do not wait for each other and leave no entry behind', () => {
  const locks = new GroupLocks();
  assert.equal(locks.acquireShared('g'), undefined);
  assert.equal(locks.acquireShared('g'), undefined);
  locks.releaseShared('g');
  locks.releaseShared('g');
  assert.equal(locks.size, 0);
});

test('an exclusive holder waits for in-flight pushes; pushes arriving meanwhile wait for it', async () => {
  const locks = new GroupLocks();
  const order: string[] = [];
  assert.equal(locks.acquireShared('g'), undefined); // a push in flight
  const exclusive = locks.acquireExclusive(['g']).then(() => order.push('move starts'));
  const late = locks.acquireShared('g');
  assert.ok(late, 'a push arriving during the move must wait');
  void late.then(() => order.push('late push proceeds'));
  await Promise.resolve();
  assert.equal(order.length, 0, 'the move waits for the in-flight push');
  order.push('in-flight push answered');
  locks.releaseShared('g');
  await exclusive;
  assert.deepEqual(order, ['in-flight push answered', 'move starts']);
  locks.releaseExclusive(['g']);
  await late;
  assert.deepEqual(order, ['in-flight push answered', 'move starts', 'late push proceeds']);
  locks.releaseShared('g');
  assert.equal(locks.size, 0);
});

test('other groups are never blocked by a move', async () => {
  const locks = new GroupLocks();
  await locks.acquireExclusive(['a']);
  assert.equal(locks.acquireShared('b'), undefined);
  locks.releaseShared('b');
  locks.releaseExclusive(['a']);
  assert.equal(locks.size, 0);
});

test('two exclusive holders on one group is a programming error', async () => {
  const locks = new GroupLocks();
  await locks.acquireExclusive(['a']);
  await assert.rejects(locks.acquireExclusive(['a']), /already held exclusively/);
});
