import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFamilyName, isValidMetricName } from '../../src/proxy/metric-family-name.js';
import { encodeFamily } from '../support/metric-family-protobuf.js';

test('reads the family name among the other fields; the last name field wins; none is ""', () => {
  const family = encodeFamily({ name: 'jobs_total', help: 'h', type: 'COUNTER', metrics: [{ labels: { a: 'b' }, value: 1 }] });
  assert.deepEqual(readFamilyName(family), { kind: 'name', name: 'jobs_total' });
  assert.deepEqual(readFamilyName(Buffer.concat([family, Buffer.from([0x0a, 0x01, 0x78])])), { kind: 'name', name: 'x' });
  assert.deepEqual(readFamilyName(Buffer.from([0x18, 0x01])), { kind: 'name', name: '' });
});

test('what cannot be walked is left to the pushgateway: groups, cut fields', () => {
  assert.deepEqual(readFamilyName(Buffer.from([0x7b, 0x7c])), { kind: 'unreadable' });
  assert.deepEqual(readFamilyName(Buffer.from([0x0a, 0x05, 0x61])), { kind: 'unreadable' });
  assert.deepEqual(readFamilyName(Buffer.from([0x09, 0x00])), { kind: 'unreadable' });
});

test('legacy metric names only, as the text parser of Pushgateway 1.5.1', () => {
  for (const ok of ['a', 'a_b:c', '_x', ':x', 'A1']) assert.ok(isValidMetricName(ok), ok);
  for (const bad of ['', '1a', 'a-b', 'a.b', 'é']) assert.ok(!isValidMetricName(bad), bad);
});
