import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sdTargetGroups, type OutsideShard } from '../../src/discovery/http-sd.js';

const outside = (target: string, over: Partial<OutsideShard>): OutsideShard => ({ target, up: true, state: 'draining', holdsGroups: true, ...over });

test('ring members are listed as active, one target group each, with the shard label', () => {
  assert.deepEqual(sdTargetGroups(['a:1', 'b:1'], []), [
    { targets: ['a:1'], labels: { __meta_shardgate_shard: 'a:1', __meta_shardgate_state: 'active' } },
    { targets: ['b:1'], labels: { __meta_shardgate_shard: 'b:1', __meta_shardgate_state: 'active' } },
  ]);
});

test('a shard outside the ring is listed only while it is up and holds groups', () => {
  const groups = sdTargetGroups(['a:1'], [
    outside('d:1', {}),
    outside('x:1', { up: false }),
    outside('e:1', { state: 'drained', holdsGroups: false }),
    outside('u:1', { state: 'drained', holdsGroups: true }),
  ]);
  assert.deepEqual(groups.map((g) => [g.targets[0], g.labels['__meta_shardgate_state']]), [['a:1', 'active'], ['d:1', 'draining'], ['u:1', 'drained']]);
});

test('an empty ring gives the empty list Prometheus expects', () => {
  assert.deepEqual(sdTargetGroups([], []), []);
});

test('the membership source\'s labels come as __meta_shardgate_<name>; shardgate\'s own labels win a clash', () => {
  const labels = (t: string): Record<string, string> => (t === 'a:1' ? { zone: 'eu', state: 'spoofed', filepath: '/etc/sd/pg.json' } : {});
  assert.deepEqual(sdTargetGroups(['a:1', 'b:1'], [], labels), [
    { targets: ['a:1'], labels: { __meta_shardgate_filepath: '/etc/sd/pg.json', __meta_shardgate_state: 'active', __meta_shardgate_zone: 'eu', __meta_shardgate_shard: 'a:1' } },
    { targets: ['b:1'], labels: { __meta_shardgate_shard: 'b:1', __meta_shardgate_state: 'active' } },
  ]);
});
