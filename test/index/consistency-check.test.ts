/**
 * The check at the gateway on an in-memory FleetIndex: each rule of
 * Pushgateway's check (storage/diskmetricstore.go checkWriteRequest +
 * client_golang Gatherers.Gather) with a push that breaks it and one that
 * does not, and what a rejected push leaves behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FleetIndex } from '../../src/index/fleet-index.js';
import { admitPush, type Verdict } from '../../src/index/consistency-check.js';
import { parseText } from '../../src/exposition/text-parser.js';
import { groupId, type GroupingKey } from '../../src/groupingkey/grouping-key.js';

const A: GroupingKey = { job: 'a' };
const A1: GroupingKey = { job: 'a', instance: '1' };
const B: GroupingKey = { job: 'b' };

function push(index: FleetIndex, method: 'PUT' | 'POST', key: GroupingKey, text: string): Verdict {
  return admitPush(index, method, key, parseText(Buffer.from(text)));
}
function accepted(v: Verdict): void {
  assert.ok(v.accepted, v.accepted ? '' : v.message);
}
function rejected(v: Verdict, message: RegExp, conflictingGroup?: GroupingKey): void {
  assert.ok(!v.accepted, 'expected a rejection');
  assert.match(v.message, /^pushed metrics are invalid or inconsistent with existing metrics: /);
  assert.match(v.message, message);
  if (conflictingGroup !== undefined) assert.deepEqual(v.conflictingGroup, conflictingGroup);
}

test('a type that differs from another group\'s is rejected; the same type is accepted', () => {
  const index = new FleetIndex();
  accepted(push(index, 'PUT', A, '# TYPE x counter\nx 1\n'));
  rejected(push(index, 'PUT', B, '# TYPE x gauge\nx 1\n'), /collected metric "x" .* is not a COUNTER/, A);
  accepted(push(index, 'PUT', B, '# TYPE x counter\nx 1\n'));
  assert.ok(index.consistent());
});

test('a type that differs from the pushgateways\' own families is rejected', () => {
  const index = new FleetIndex();
  rejected(push(index, 'PUT', A, '# TYPE go_goroutines counter\ngo_goroutines 1\n'), /gathered metric family go_goroutines has type COUNTER but should have GAUGE/);
  accepted(push(index, 'PUT', A, '# TYPE go_goroutines gauge\ngo_goroutines 1\n'));
});

test('a series another group produces is rejected (pushgateway #544: a body label equal to another group\'s grouping label)', () => {
  const index = new FleetIndex();
  accepted(push(index, 'PUT', A1, 'x 1\n'));
  rejected(push(index, 'PUT', A, 'x{instance="1"} 1\n'), /collected metric "x" \{ label:<name:"instance" value:"1" > label:<name:"job" value:"a" > \} was collected before/, A1);
  // Grouping labels overwrite body labels: job="other" becomes job="b", a different series.
  accepted(push(index, 'PUT', B, 'x{job="other",instance="1"} 1\n'));
});

test('a series repeated within one push is rejected', () => {
  rejected(push(new FleetIndex(), 'PUT', A, 'x 1\nx{job="zzz"} 2\n'), /was collected before/);
});

test('suffix collisions with histograms and summaries are rejected in both orders; _bucket beside a summary is not', () => {
  const index = new FleetIndex();
  accepted(push(index, 'PUT', A, '# TYPE h histogram\nh_bucket{le="1"} 1\nh_count 1\nh_sum 1\n'));
  rejected(push(index, 'PUT', B, 'h_bucket 1\n'), /collected metric named "h_bucket" collides with previously collected histogram named "h"/, A);
  accepted(push(index, 'PUT', B, '# TYPE s summary\ns_count 1\ns_sum 1\n'));
  accepted(push(index, 'POST', A, 's_bucket 1\n'));
  rejected(push(index, 'POST', A, 's_count{x="1"} 1\n'), /collides with previously collected summary named "s"/);
  const other = new FleetIndex();
  accepted(push(other, 'PUT', A, 'h_sum 1\n'));
  rejected(push(other, 'PUT', B, '# TYPE h histogram\nh_count 1\n'), /collides/);
  rejected(push(new FleetIndex(), 'PUT', A, 'go_gc_duration_seconds_count 1\n'), /collides with previously collected summary named "go_gc_duration_seconds"/);
});

test('HELP differences are tolerated', () => {
  const index = new FleetIndex();
  accepted(push(index, 'PUT', A, '# HELP x one\nx 1\n'));
  accepted(push(index, 'PUT', B, '# HELP x two\nx 1\n'));
  accepted(push(index, 'PUT', A1, '# HELP go_goroutines mine\n# TYPE go_goroutines gauge\ngo_goroutines 1\n'));
});

test('timestamps are rejected', () => {
  rejected(push(new FleetIndex(), 'PUT', A, 'x 1 1000\n'), /pushed metrics must not have timestamps$/);
});

test('PUT replaces the group, POST replaces only the families it carries', () => {
  const index = new FleetIndex();
  accepted(push(index, 'PUT', A, '# TYPE x counter\nx 1\n# TYPE y counter\ny 1\n'));
  accepted(push(index, 'POST', A, '# TYPE y gauge\ny 1\n'));
  assert.deepEqual([...(index.group(groupId(A))?.families.keys() ?? [])].sort(), ['push_failure_time_seconds', 'push_time_seconds', 'x', 'y']);
  // y changed type within its own group: no conflict. Now a PUT without x frees the name for a gauge elsewhere.
  rejected(push(index, 'PUT', B, '# TYPE x gauge\nx 1\n'), /is not a COUNTER/);
  accepted(push(index, 'PUT', A, 'z 1\n'));
  accepted(push(index, 'PUT', B, '# TYPE x gauge\nx 1\n'));
});

test('a rejected push creates its group with the two timestamp gauges only; {job=a} and {job=a,instance=""} then poison every push until one is deleted', () => {
  const index = new FleetIndex();
  accepted(push(index, 'PUT', A, 'x 1\n'));
  const same: GroupingKey = { job: 'a', instance: '' };
  rejected(push(index, 'PUT', same, 'y 1\n'), /"push_time_seconds" .* was collected before|"push_failure_time_seconds" .* was collected before/);
  assert.deepEqual([...(index.group(groupId(same))?.families.keys() ?? [])].sort(), ['push_failure_time_seconds', 'push_time_seconds']);
  assert.equal(index.consistent(), false);
  rejected(push(index, 'PUT', B, 'unrelated 1\n'), /was collected before/);
  index.setGroup(groupId(same), undefined);
  accepted(push(index, 'PUT', B, 'unrelated 1\n'));
});

test('undo restores the index exactly (a forward that failed)', () => {
  const index = new FleetIndex();
  accepted(push(index, 'PUT', A, '# TYPE x counter\nx 1\n'));
  const v = push(index, 'PUT', A, '# TYPE x gauge\nx 1\n');
  assert.ok(v.accepted);
  v.undo();
  rejected(push(index, 'PUT', B, '# TYPE x gauge\nx 1\n'), /is not a COUNTER/);
  const fresh = push(index, 'PUT', { job: 'new' }, 'q 1\n');
  assert.ok(fresh.accepted);
  fresh.undo();
  assert.equal(index.group(groupId({ job: 'new' })), undefined);
});

test('invalid label names and a quantile label on a summary are rejected (protobuf can carry them)', () => {
  rejected(push(new FleetIndex(), 'PUT', A, 'x{__meta="1"} 1\n'), /has a label with an invalid name: __meta/);
});
