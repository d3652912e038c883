import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildRing } from '../../src/ring/rendezvous-ring.js';

const members = (n: number, prefix = '10.0.0.'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}:9091`);
// Deterministic synthetic keys shaped like shard keys.
const keys = (n: number): string[] => Array.from({ length: n }, (_, i) => `job\u00003\u0000b${i}\u0000instance\u00005\u0000h${(i * 7919) % 100003}\u0000`);

test('an empty ring has no owner', () => {
  assert.equal(buildRing([]).owner('x'), undefined);
});

test('same member set gives the same owners whatever the insertion order', () => {
  const ks = keys(10_000);
  const a = buildRing(members(10));
  const b = buildRing([...members(10)].reverse());
  const c = buildRing([...members(10), ...members(3)]); // duplicates ignored
  for (const k of ks) {
    assert.equal(a.owner(k), b.owner(k));
    assert.equal(a.owner(k), c.owner(k));
  }
});

test('balanced: max/mean load at most 1.05 for 100,000 random keys over 10 shards', () => {
  const ring = buildRing(members(10));
  const counts = new Map<string, number>();
  const rand = fc.sample(fc.string({ minLength: 1, maxLength: 40 }), { numRuns: 100_000, seed: 42 });
  for (const k of rand) {
    const o = ring.owner(k) ?? '';
    counts.set(o, (counts.get(o) ?? 0) + 1);
  }
  assert.equal(counts.size, 10);
  const max = Math.max(...counts.values());
  assert.ok(max / (rand.length / 10) <= 1.05, `max/mean ${(max / (rand.length / 10)).toFixed(4)}`);
});

test('adding an 11th shard moves at most 1.1 × 1/11 of keys, all to the newcomer', () => {
  const ks = keys(100_000);
  const before = buildRing(members(10));
  const after = buildRing([...members(10), '10.0.1.1:9091']);
  let moved = 0;
  for (const k of ks) {
    const a = before.owner(k);
    const b = after.owner(k);
    if (a !== b) {
      moved++;
      assert.equal(b, '10.0.1.1:9091', 'a key moved between two existing members');
    }
  }
  assert.ok(moved / ks.length <= 1.1 / 11, `moved ${(moved / ks.length).toFixed(4)}`);
});

test('removing a shard moves only that shard\'s keys', () => {
  const ks = keys(50_000);
  const before = buildRing(members(10));
  const after = buildRing(members(10).filter((m) => m !== '10.0.0.3:9091'));
  for (const k of ks) {
    const a = before.owner(k);
    if (a !== '10.0.0.3:9091') assert.equal(after.owner(k), a);
    else assert.notEqual(after.owner(k), a);
  }
});

test('property: owner is always a member, and removing a non-owner never changes the owner', () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.stringMatching(/^[a-z0-9.]{1,12}:[0-9]{2,5}$/), { minLength: 2, maxLength: 12 }), fc.string(), (ms, k) => {
      const ring = buildRing(ms);
      const owner = ring.owner(k);
      assert.ok(owner !== undefined && ms.includes(owner));
      const other = ms.find((m) => m !== owner) ?? '';
      assert.equal(buildRing(ms.filter((m) => m !== other)).owner(k), owner);
    }),
    { numRuns: 500 },
  );
});
