import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeGroups } from '../../src/read/merge-groups.js';
import { type ApiGroup, familiesOf } from '../../src/upstream/metrics-api.js';

function group(labels: Record<string, string>, pushTime: number, value: string): ApiGroup {
  return {
    labels,
    last_push_successful: true,
    push_time_seconds: { time_stamp: '', type: 'GAUGE', metrics: [{ labels, value: String(pushTime) }] },
    x: { time_stamp: '', type: 'COUNTER', metrics: [{ labels, value }] },
  };
}

test('union of shards; a group on two shards appears once, the fresher copy wins', () => {
  const merged = mergeGroups([
    { target: 'a:1', groups: [group({ job: 'j1' }, 100, 'old'), group({ job: 'j2' }, 5, 'only')] },
    { target: 'b:1', groups: [group({ job: 'j1' }, 200, 'new')] },
  ]);
  assert.equal(merged.data.length, 2);
  assert.equal(merged.duplicates, 1);
  const j1 = merged.data.find((g) => g.labels.job === 'j1');
  const family = j1 === undefined ? undefined : familiesOf(j1).find(([name]) => name === 'x')?.[1];
  assert.equal(family?.metrics[0]?.value, 'new');
});

test('{job=a} and {job=a,instance=""} stay two groups', () => {
  const merged = mergeGroups([{ target: 'a:1', groups: [group({ job: 'a' }, 1, '1'), group({ job: 'a', instance: '' }, 1, '2')] }]);
  assert.equal(merged.data.length, 2);
  assert.equal(merged.duplicates, 0);
});
