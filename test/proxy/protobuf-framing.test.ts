import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkDelimitedFraming } from '../../src/proxy/protobuf-framing.js';

const LIMIT = 1024;
const bytes = (...b: number[]): Buffer => Buffer.from(b);

/** A varint as protobuf writes it (minimal). */
function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
const frame = (message: number[]): number[] => [...varint(message.length), ...message];

test('well-framed bodies pass: empty, one message, several, zero-length messages', () => {
  assert.equal(checkDelimitedFraming(bytes(), LIMIT), undefined);
  assert.equal(checkDelimitedFraming(bytes(...frame([0x0a, 0x01, 0x61])), LIMIT), undefined);
  assert.equal(checkDelimitedFraming(bytes(...frame([1, 2]), ...frame([]), ...frame(Array(300).fill(7))), LIMIT), undefined);
  // A non-minimal varint (0x80 0x00 = 0) is what Go decodes too.
  assert.equal(checkDelimitedFraming(bytes(0x80, 0x00), LIMIT), undefined);
});

test('the 4 GiB prefix is refused before anything else', () => {
  const fault = checkDelimitedFraming(bytes(0xff, 0xff, 0xff, 0xff, 0x0f), LIMIT);
  assert.equal(fault?.offset, 0);
  assert.match(fault?.message ?? '', /announces 4294967295 bytes, more than the body limit of 1024 bytes/);
  // The largest 5-byte varint, 2^35 - 1, is read exactly (no 32-bit overflow).
  assert.match(checkDelimitedFraming(bytes(0xff, 0xff, 0xff, 0xff, 0x7f), LIMIT)?.message ?? '', /announces 34359738367 bytes/);
});

test('malformed prefixes: longer than 5 bytes, cut off, or announcing more than follows', () => {
  assert.match(checkDelimitedFraming(bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x00), LIMIT)?.message ?? '', /invalid varint32 encountered at byte 0/);
  assert.match(checkDelimitedFraming(bytes(...frame([1]), 0x80), LIMIT)?.message ?? '', /length prefix at byte 2 is cut off/);
  const short = checkDelimitedFraming(bytes(...frame([1, 2]), 5, 1, 2), LIMIT);
  assert.equal(short?.offset, 3);
  assert.match(short?.message ?? '', /announces 5 bytes, but only 2 follow/);
  // Within the limit but past the end: the last message must end exactly at the end.
  assert.match(checkDelimitedFraming(bytes(100), LIMIT)?.message ?? '', /announces 100 bytes, but only 0 follow/);
});

test('invariant: framing of random messages passes; any truncation of a non-empty last message fails', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { minLength: 1, maxLength: 8 }), fc.nat(), (messages, cut) => {
      const body = Buffer.from(messages.flatMap((m) => frame([...m])));
      assert.equal(checkDelimitedFraming(body, LIMIT), undefined);
      const end = cut % body.length;
      // Cutting inside the body leaves a prefix or message incomplete, unless it falls on a boundary.
      let boundary = 0;
      const boundaries = new Set([0]);
      for (const m of messages) boundaries.add((boundary += frame([...m]).length));
      assert.equal(checkDelimitedFraming(body.subarray(0, end), LIMIT) === undefined, boundaries.has(end));
    }),
  );
});

test('invariant: no prefix over the limit passes, whatever follows', () => {
  fc.assert(
    fc.property(fc.integer({ min: LIMIT + 1, max: 2 ** 35 - 1 }), fc.uint8Array({ maxLength: 64 }), (length, rest) => {
      assert.ok(checkDelimitedFraming(Buffer.from([...varint(length), ...rest]), LIMIT) !== undefined);
    }),
  );
});
