import { test } from 'node:test';
import assert from 'node:assert/strict';
import { standbyOrder } from '../../src/replication/standby-order.js';
import { buildRing } from '../../src/ring/rendezvous-ring.js';

const standbys = (n: number): string[] => Array.from({ length: n }, (_, i) => `10.1.0.${i}:9091`);
const keys = (n: number): string[] => Array.from({ length: n }, (_, i) => `job\u00003\u0000b${i}\u0000`);

test('the order lists every standby once, the ring owner first', () => {
  const s = standbys(5);
  for (const k of keys(2_000)) {
    const order = standbyOrder(k, s);
    assert.deepEqual([...order].sort(), [...s].sort());
    assert.equal(order[0], buildRing(s).owner(k));
  }
});

test('the same standbys in any order give the same order', () => {
  const s = standbys(4);
  for (const k of keys(2_000)) assert.deepEqual(standbyOrder(k, s), standbyOrder(k, [...s].reverse()));
});

test('removing a standby keeps the relative order of the others (a fallback is the next one, not a reshuffle)', () => {
  const s = standbys(5);
  const gone = s[2] ?? '';
  for (const k of keys(2_000)) {
    assert.deepEqual(
      standbyOrder(k, s.filter((x) => x !== gone)),
      standbyOrder(k, s).filter((x) => x !== gone),
    );
  }
});

test('adding a standby moves only the groups it wins to it', () => {
  const before = standbys(4);
  const after = standbys(5);
  for (const k of keys(5_000)) {
    const [b] = standbyOrder(k, before);
    const [a] = standbyOrder(k, after);
    if (a !== b) assert.equal(a, after[4]);
  }
});

test('no standbys: an empty order', () => {
  assert.deepEqual(standbyOrder('x', []), []);
});
