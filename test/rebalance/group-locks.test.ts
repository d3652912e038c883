import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupLocks } from '../../src/rebalance/group-locks.js';

/** Lets every promise callback that is ready run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

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
  let finish: () => void = () => undefined;
  const move = locks.withExclusive(['g'], async () => {
    order.push('move starts');
    await new Promise<void>((resolve) => (finish = resolve));
    order.push('move ends');
  });
  const late = locks.acquireShared('g');
  assert.ok(late, 'a push arriving during the move must wait');
  void late.then(() => order.push('late push proceeds'));
  await settle();
  assert.equal(order.length, 0, 'the move waits for the in-flight push');
  order.push('in-flight push answered');
  locks.releaseShared('g');
  await settle();
  assert.deepEqual(order, ['in-flight push answered', 'move starts']);
  finish();
  await move;
  await late;
  assert.deepEqual(order, ['in-flight push answered', 'move starts', 'move ends', 'late push proceeds']);
  locks.releaseShared('g');
  assert.equal(locks.size, 0);
});

test('other groups are never blocked by a move', async () => {
  const locks = new GroupLocks();
  await locks.withExclusive(['a'], async () => {
    assert.equal(locks.acquireShared('b'), undefined);
    locks.releaseShared('b');
  });
  assert.equal(locks.size, 0);
});

test('a second exclusive holder of a group queues behind the first (it used to throw and leak the lock)', async () => {
  const locks = new GroupLocks();
  const order: string[] = [];
  let finish: () => void = () => undefined;
  const first = locks.withExclusive(['a', 'b'], async () => {
    order.push('first');
    await new Promise<void>((resolve) => (finish = resolve));
  });
  await settle();
  const second = locks.withExclusive(['b', 'c'], async () => void order.push('second'));
  await settle();
  assert.deepEqual(order, ['first']);
  assert.ok(locks.acquireShared('a') !== undefined, 'a push of a held group waits');
  finish();
  await Promise.all([first, second]);
  assert.deepEqual(order, ['first', 'second']);
  locks.releaseShared('a');
  assert.equal(locks.size, 0);
});

test('whatever the operation throws, its locks are released and waiting pushes proceed', async () => {
  const locks = new GroupLocks();
  let pushWait: Promise<void> | undefined;
  await assert.rejects(
    locks.withExclusive(['a', 'b'], async () => {
      pushWait = locks.acquireShared('b');
      throw new Error('upstream said no');
    }),
    /upstream said no/,
  );
  assert.ok(pushWait);
  await pushWait;
  locks.releaseShared('b');
  assert.equal(locks.size, 0);
});

test('overlapping multi-group acquisitions in opposite orders never deadlock', async () => {
  const locks = new GroupLocks();
  const ids = ['a', 'b', 'c', 'd'];
  const runs = Array.from({ length: 20 }, (_, i) => {
    const mine = i % 2 === 0 ? ids : [...ids].reverse();
    return locks.withExclusive(mine.slice(i % 3), async () => {
      await settle();
    });
  });
  await Promise.all(runs);
  assert.equal(locks.size, 0);
  assert.equal(locks.isExclusive('a'), false);
});
