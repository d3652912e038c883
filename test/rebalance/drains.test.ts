import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Drains } from '../../src/rebalance/drains.js';

test('a drain counts only rounds that began after it: one in flight when it started read the shard while it still took writes', () => {
  const drains = new Drains();
  drains.start('a:1', new Date(0), 5);
  drains.progress('a:1', 0, 0, 4); // began before the drain: ignored
  assert.equal(drains.state('a:1')?.state, 'draining');
  assert.equal(drains.state('a:1')?.groups_remaining, null);
  drains.progress('a:1', 2, 0, 6);
  assert.deepEqual([drains.state('a:1')?.state, drains.state('a:1')?.groups_remaining], ['draining', 2]);
  drains.progress('a:1', 0, 1, 7);
  assert.deepEqual([drains.state('a:1')?.state, drains.state('a:1')?.groups_remaining, drains.state('a:1')?.groups_unmovable], ['drained', 0, 1]);
});
