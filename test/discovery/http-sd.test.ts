import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sdTargetGroups } from '../../src/discovery/http-sd.js';
import { type TargetStatus } from '../../src/membership/membership.js';

const status = (target: string, over: Partial<TargetStatus>): TargetStatus => ({
  target,
  health: 'up',
  lastCheck: null,
  lastError: null,
  lastCheckDurationSeconds: null,
  draining: false,
  inRing: false,
  ...over,
});

test('ring members are listed as active, one target group each, with the shard label', () => {
  assert.deepEqual(sdTargetGroups(['a:1', 'b:1'], []), [
    { targets: ['a:1'], labels: { __meta_shardgate_shard: 'a:1', __meta_shardgate_state: 'active' } },
    { targets: ['b:1'], labels: { __meta_shardgate_shard: 'b:1', __meta_shardgate_state: 'active' } },
  ]);
});

test('a draining shard stays listed while it is up; a down or healthy non-member does not', () => {
  const groups = sdTargetGroups(['a:1'], [status('a:1', { inRing: true }), status('d:1', { draining: true }), status('x:1', { draining: true, health: 'down' }), status('j:1', {})]);
  assert.deepEqual(groups.map((g) => [g.targets[0], g.labels['__meta_shardgate_state']]), [['a:1', 'active'], ['d:1', 'draining']]);
});

test('an empty ring gives the empty list Prometheus expects', () => {
  assert.deepEqual(sdTargetGroups([], []), []);
});
