/** Delimited protobuf pushes decoded as Pushgateway's handler decodes them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDelimitedProtobuf, ProtobufDecodeError } from '../../src/exposition/protobuf-decoder.js';
import { isDelimitedProtobuf } from '../../src/exposition/parse-push.js';
import { PROTOBUF_CONTENT_TYPE, delimited, encodeFamily } from '../support/metric-family-protobuf.js';
import { VALUE_BIT } from '../../src/exposition/metric-family.js';

test('families with labels, type, HELP and which value is set', () => {
  const body = delimited([
    encodeFamily({ name: 'a_total', help: 'h', type: 'COUNTER', metrics: [{ labels: { x: '1', y: 'é' }, value: 2 }] }),
    encodeFamily({ name: 'g', type: 'GAUGE', metrics: [{ value: 1 }, { labels: { x: '2' }, value: 3 }] }),
  ]);
  const push = parseDelimitedProtobuf(body);
  assert.equal(push.get('a_total')?.type, 'COUNTER');
  assert.equal(push.get('a_total')?.help, 'h');
  assert.deepEqual(push.get('a_total')?.metrics[0]?.labels.map((l) => [l.name, l.value, l.utf8]), [['x', '1', true], ['y', 'é', true]]);
  assert.equal(push.get('a_total')?.metrics[0]?.values, VALUE_BIT.COUNTER);
  assert.equal(push.get('g')?.metrics.length, 2);
});

test('a later family of the same name replaces an earlier one (a map keyed by name)', () => {
  const push = parseDelimitedProtobuf(delimited([encodeFamily({ name: 'x', type: 'GAUGE', metrics: [{ value: 1 }] }), encodeFamily({ name: 'x', type: 'COUNTER', metrics: [{ value: 1 }, { labels: { a: 'b' }, value: 1 }] })]));
  assert.equal(push.get('x')?.type, 'COUNTER');
  assert.equal(push.get('x')?.metrics.length, 2);
});

test('malformed wire data is refused with protobuf-go\'s message', () => {
  // Field 4 (metric) announces 5 bytes inside a 3-byte message.
  assert.throws(() => parseDelimitedProtobuf(Buffer.from([3, 0x22, 5, 0])), ProtobufDecodeError);
  assert.throws(() => parseDelimitedProtobuf(Buffer.from([1, 0x07])), /cannot parse invalid wire-format data/);
});

test('protobuf only for the exact media type and parameters Pushgateway checks', () => {
  assert.equal(isDelimitedProtobuf(PROTOBUF_CONTENT_TYPE), true);
  assert.equal(isDelimitedProtobuf('Application/Vnd.Google.Protobuf; Encoding="delimited"; proto=io.prometheus.client.MetricFamily'), true);
  assert.equal(isDelimitedProtobuf('application/vnd.google.protobuf; encoding=delimited'), false);
  assert.equal(isDelimitedProtobuf('text/plain; version=0.0.4'), false);
  assert.equal(isDelimitedProtobuf(undefined), false);
});
