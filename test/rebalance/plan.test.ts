import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { groupId, shardKey, type GroupingKey } from '../../src/groupingkey/grouping-key.js';
import { buildRing } from '../../src/ring/rendezvous-ring.js';
import { type ApiGroup } from '../../src/upstream/metrics-api.js';
import { planRound, type RoundPlan } from '../../src/rebalance/plan.js';
import { type CopyMark, type CopyStanding } from '../../src/rebalance/copy-ledger.js';
import { type RoutingTable } from '../../src/proxy/push-target.js';

/** A group as /api/v1/metrics lists it, with push_time_seconds = `pushTime`. */
function group(labels: Record<string, string>, pushTime: number): ApiGroup {
  return {
    labels,
    last_push_successful: true,
    g: { time_stamp: '', type: 'GAUGE', metrics: [{ labels, value: '1' }] },
    push_time_seconds: { time_stamp: '', type: 'GAUGE', metrics: [{ labels, value: String(pushTime) }] },
  };
}

const A: GroupingKey = { job: 'a' };
/** Routing where every key goes to `target` (an override-free ring of one is enough: owner() ignores the key). */
const routedTo = (target: string): RoutingTable => ({ ring: { members: [target], owner: () => target }, overrides: new Map() });
const ownedBy = (owner: string): { owner: () => string } => ({ owner: () => owner });

function brief(plan: RoundPlan): string[] {
  return [
    ...plan.deletes.map((a) => `delete ${a.from} t=${String(a.pushTime)}`),
    ...plan.merges.map((a) => `merge ${a.from} into ${a.into}`),
    ...plan.moves.map((a) => `move ${a.from}->${a.to}`),
    ...[...plan.pinned].map(([, holder]) => `pinned at ${holder}`),
  ];
}

interface Case {
  readonly name: string;
  readonly target: string;
  readonly owner: string;
  readonly snapshot: Array<[string, ApiGroup[]]>;
  readonly marks?: Record<string, CopyStanding>;
  readonly want: string[];
}

const cases: Case[] = [
  {
    name: 'the copy where pushes go wins even when a stray has a newer push time (a write applied late)',
    target: 'T',
    owner: 'T',
    snapshot: [['T', [group(A, 100)]], ['S', [group(A, 200)]]],
    want: ['delete S t=200'],
  },
  {
    name: 'the target lacks the group: the freshest stray is adopted by the owner, the other deleted',
    target: 'T',
    owner: 'T',
    snapshot: [['T', []], ['S', [group(A, 200)]], ['R', [group(A, 100)]]],
    want: ['delete R t=100', 'move S->T'],
  },
  {
    name: 'a stray the ledger marks stale is deleted, never adopted, even when it is the only copy (a DELETE it missed)',
    target: 'T',
    owner: 'T',
    snapshot: [['T', []], ['S', [group(A, 200)]]],
    marks: { S: 'stale' },
    want: ['delete S t=200'],
  },
  {
    name: 'a base copy (POSTs since its shard failed) is merged under the target copy',
    target: 'T',
    owner: 'T',
    snapshot: [['T', [group(A, 300)]], ['S', [group(A, 200)]]],
    marks: { S: 'base' },
    want: ['merge S into T'],
  },
  {
    name: 'the lost home is back and nothing was written since it failed: its copy wins over a leftover on the target',
    target: 'T',
    owner: 'O',
    snapshot: [['T', [group(A, 900)]], ['H', [group(A, 100)]], ['O', []]],
    marks: { H: 'home' },
    want: ['delete T t=900', 'move H->O'],
  },
  {
    name: 'a copy on the target that the ledger knows is stale (its shard returned with it) is deleted; the other copy is adopted',
    target: 'T',
    owner: 'T',
    snapshot: [['T', [group(A, 900)]], ['S', [group(A, 100)]]],
    marks: { T: 'stale' },
    want: ['delete T t=900', 'move S->T'],
  },
  {
    name: 'ring change: the group moves from its target to the next owner; a stale copy on the next owner goes first',
    target: 'T',
    owner: 'O',
    snapshot: [['T', [group(A, 100)]], ['O', [group(A, 900)]]],
    want: ['delete O t=900', 'move T->O'],
  },
  {
    name: 'the target was not read: nothing is decided for the group',
    target: 'T',
    owner: 'O',
    snapshot: [['O', [group(A, 100)]], ['S', [group(A, 200)]]],
    want: [],
  },
];

for (const c of cases) {
  test(`plan: ${c.name}`, () => {
    const plan = planRound({
      routing: routedTo(c.target),
      next: ownedBy(c.owner),
      snapshot: new Map(c.snapshot),
      standing: (_id, _key, shard) => c.marks?.[shard],
    });
    assert.deepEqual(brief(plan), c.want);
  });
}

test('plan: bases are laid under the holder newest first; an older one waits for a later round', () => {
  const plan = planRound({
    routing: routedTo('T'),
    next: ownedBy('T'),
    snapshot: new Map([['T', [group(A, 3)]], ['S', [group(A, 2)]], ['R', [group(A, 1)]]]),
    standing: (_id, _key, shard) => (shard === 'T' ? undefined : 'base'),
    newestBase: () => 'S',
  });
  assert.deepEqual(brief(plan), ['merge S into T']);
  assert.ok(plan.undecided.has('R'));
});

test('plan: copies of a group whose last home was read without it are orphans, deleted, never adopted (a DELETE in doubt landed there)', () => {
  const input = {
    routing: routedTo('T'),
    next: ownedBy('T'),
    standing: (_id: string, _key: GroupingKey, shard: string): CopyStanding => (shard === 'T' ? 'base' : undefined),
    lastHome: () => 'L',
  };
  const gone = planRound({ ...input, snapshot: new Map([['T', [group(A, 1)]], ['L', []]]) });
  assert.deepEqual([...gone.orphaned], [[groupId(A), ['T']]]);
  assert.deepEqual(brief(gone), ['delete T t=1']);
  // L not read: its copy may still come back; the base waits.
  const unread = planRound({ ...input, snapshot: new Map([['T', [group(A, 1)]]]) });
  assert.deepEqual([...unread.orphaned], []);
});

test('plan: an override routes the group to its holder, which is then the authority', () => {
  const routing: RoutingTable = { ring: { members: ['O'], owner: () => 'O' }, overrides: new Map([[groupId(A), 'H']]) };
  const plan = planRound({ routing, next: ownedBy('O'), snapshot: new Map([['H', [group(A, 1)]], ['O', [group(A, 5)]]]), standing: () => undefined });
  assert.deepEqual(brief(plan), ['delete O t=5', 'move H->O']);
});

test('plan: a copy that already failed to render stays pinned where it is instead of being retried', () => {
  const plan = planRound({
    routing: routedTo('T'),
    next: ownedBy('O'),
    snapshot: new Map([['T', [group(A, 7)]], ['O', []]]),
    standing: () => undefined,
    unmovable: (_id, holder, pushTime) => holder === 'T' && pushTime === 7,
  });
  assert.deepEqual(brief(plan), ['pinned at T']);
});

test('plan invariants over random fleets, holdings and marks', () => {
  const shards = ['a:1', 'b:1', 'c:1', 'd:1'];
  const keys: GroupingKey[] = [{ job: 'x' }, { job: 'y' }, { job: 'y', instance: '' }, { job: 'z', instance: 'i' }];
  const arb = fc.record({
    current: fc.subarray(shards, { minLength: 1 }),
    next: fc.subarray(shards, { minLength: 1 }),
    readable: fc.subarray(shards),
    holdings: fc.array(fc.tuple(fc.constantFrom(...shards), fc.constantFrom(...keys), fc.integer({ min: 0, max: 3 })), { maxLength: 20 }),
    marks: fc.array(fc.tuple(fc.constantFrom(...keys), fc.constantFrom(...shards), fc.constantFrom<CopyMark>('stale', 'base')), { maxLength: 5 }),
  });
  fc.assert(
    fc.property(arb, ({ current, next, readable, holdings, marks }) => {
      const snapshot = new Map<string, ApiGroup[]>(readable.map((t) => [t, []]));
      for (const [t, key, time] of holdings) snapshot.get(t)?.push(group(key, time));
      const markOf = new Map(marks.map(([key, shard, m]) => [`${groupId(key)}@${shard}`, m]));
      const routing: RoutingTable = { ring: buildRing(current), overrides: new Map() };
      const nextRing = buildRing(next);
      const plan = planRound({ routing, next: nextRing, snapshot, standing: (id, _key, shard) => markOf.get(`${id}@${shard}`) });
      const touched = new Map<string, string[]>();
      const touch = (id: string, what: string): void => void touched.set(id, [...(touched.get(id) ?? []), what]);
      for (const d of plan.deletes) {
        // The copy where pushes go is deleted only when the ledger knows it is stale.
        if (d.from === routing.ring.owner(shardKey(d.key))) assert.equal(markOf.get(`${d.id}@${d.from}`), 'stale');
        touch(d.id, `${d.from}`);
      }
      for (const m of plan.merges) {
        assert.equal(m.into, routing.ring.owner(shardKey(m.key)));
        assert.equal(markOf.get(`${m.id}@${m.from}`), 'base');
        touch(m.id, `${m.from}`);
      }
      for (const m of plan.moves) {
        assert.equal(m.to, nextRing.owner(shardKey(m.key)));
        assert.notEqual(m.from, m.to);
        touch(m.id, `move ${m.from}`);
      }
      for (const [id, list] of touched) {
        // Each copy gets at most one action, and at most one move per group.
        assert.equal(new Set(list).size, list.length, `${id}: ${list.join(',')}`);
        assert.ok(list.filter((x) => x.startsWith('move')).length <= 1);
        // A moved copy is never also deleted by the plan.
        for (const x of list) if (x.startsWith('move ')) assert.ok(!list.includes(x.slice(5)));
      }
    }),
    { numRuns: 500 },
  );
});
