import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { groupId, shardKey, type GroupingKey } from '../../src/groupingkey/grouping-key.js';
import { buildRing } from '../../src/ring/rendezvous-ring.js';
import { type ApiGroup } from '../../src/upstream/metrics-api.js';
import { pushTimeOf } from '../../src/upstream/group-facts.js';
import { planRebalance, type Owners, type RebalanceAction, summarizePlan } from '../../src/rebalance/plan.js';

/** A group as /api/v1/metrics lists it, with push_time_seconds = `pushTime` (omitted when undefined). */
function group(labels: Record<string, string>, pushTime: number | undefined): ApiGroup {
  const base: ApiGroup = { labels, last_push_successful: true, g: { time_stamp: '', type: 'GAUGE', metrics: [{ labels, value: '1' }] } };
  if (pushTime === undefined) return base;
  return { ...base, push_time_seconds: { time_stamp: '', type: 'GAUGE', metrics: [{ labels, value: String(pushTime) }] } };
}

const A = { job: 'a' };
/** Every key owned by `owner`; undefined is an empty ring. */
const allTo = (owner: string | undefined): Owners => ({ owner: () => owner });

/** Compact view of a plan for table assertions. */
function brief(actions: readonly RebalanceAction[]): string[] {
  return actions.map((a) => {
    const key = JSON.stringify(a.key);
    if (a.kind === 'move') return `#${a.id} move ${key} ${a.from}->${a.to} t=${String(a.pushTime)}`;
    return `#${a.id} delete-stray ${key} from ${a.from} (owner ${a.to})${a.after === undefined ? '' : ` after #${a.after}`}`;
  });
}

interface Case {
  readonly name: string;
  readonly owners: Owners;
  readonly snapshot: Array<[string, ApiGroup[]]>;
  readonly want: string[];
}

const cases: Case[] = [
  {
    name: 'stray fresher than the owner copy: move it',
    owners: allTo('O'),
    snapshot: [['O', [group(A, 100)]], ['S', [group(A, 200)]]],
    want: ['#0 move {"job":"a"} S->O t=200'],
  },
  {
    name: 'owner fresher: delete the stray only',
    owners: allTo('O'),
    snapshot: [['O', [group(A, 300)]], ['S', [group(A, 200)]]],
    want: ['#0 delete-stray {"job":"a"} from S (owner O)'],
  },
  {
    name: 'equal push times: the owner wins, delete the stray',
    owners: allTo('O'),
    snapshot: [['O', [group(A, 200)]], ['S', [group(A, 200)]]],
    want: ['#0 delete-stray {"job":"a"} from S (owner O)'],
  },
  {
    name: 'owner lacks the group: move',
    owners: allTo('O'),
    snapshot: [['O', []], ['S', [group(A, 200)]]],
    want: ['#0 move {"job":"a"} S->O t=200'],
  },
  {
    name: 'stray on two non-owners: move the freshest, delete the other after the move',
    owners: allTo('O'),
    snapshot: [['O', []], ['S1', [group(A, 300)]], ['S2', [group(A, 200)]]],
    want: ['#0 move {"job":"a"} S1->O t=300', '#1 delete-stray {"job":"a"} from S2 (owner O) after #0'],
  },
  {
    name: 'stray on two non-owners, owner between them: still one move, one dependent delete',
    owners: allTo('O'),
    snapshot: [['O', [group(A, 250)]], ['S1', [group(A, 200)]], ['S2', [group(A, 300)]]],
    want: ['#0 move {"job":"a"} S2->O t=300', '#1 delete-stray {"job":"a"} from S1 (owner O) after #0'],
  },
  {
    name: 'stray on two non-owners, owner freshest: two independent deletes',
    owners: allTo('O'),
    snapshot: [['O', [group(A, 400)]], ['S1', [group(A, 200)]], ['S2', [group(A, 300)]]],
    // A group's deletes come freshest first.
    want: ['#0 delete-stray {"job":"a"} from S2 (owner O)', '#1 delete-stray {"job":"a"} from S1 (owner O)'],
  },
  {
    name: 'strays with equal times: the first target in sort order is moved',
    owners: allTo('O'),
    snapshot: [['S2', [group(A, 300)]], ['O', []], ['S1', [group(A, 300)]]],
    want: ['#0 move {"job":"a"} S1->O t=300', '#1 delete-stray {"job":"a"} from S2 (owner O) after #0'],
  },
  {
    name: 'owner unreachable (not in the snapshot): nothing',
    owners: allTo('O'),
    snapshot: [['S', [group(A, 200)]]],
    want: [],
  },
  {
    name: 'group only on its owner: nothing',
    owners: allTo('O'),
    snapshot: [['O', [group(A, 200)]], ['S', []]],
    want: [],
  },
  {
    name: 'empty ring: nothing',
    owners: allTo(undefined),
    snapshot: [['O', [group(A, 100)]], ['S', [group(A, 200)]]],
    want: [],
  },
  {
    name: '{job=a} and {job=a,instance=""} are two groups',
    owners: allTo('O'),
    snapshot: [['O', [group(A, 300)]], ['S', [group(A, 200), group({ job: 'a', instance: '' }, 100)]]],
    // Groups come in groupId order (label names sorted: instance before job).
    want: ['#0 move {"job":"a","instance":""} S->O t=100', '#1 delete-stray {"job":"a"} from S (owner O)'],
  },
  {
    name: 'a stray without push_time_seconds is the oldest: moved only where the owner has nothing',
    owners: allTo('O'),
    snapshot: [['O', [group({ job: 'b' }, 0)]], ['S', [group({ job: 'b' }, undefined), group({ job: 'c' }, undefined)]]],
    want: ['#0 delete-stray {"job":"b"} from S (owner O)', '#1 move {"job":"c"} S->O t=undefined'],
  },
  {
    name: 'a listing without a job is ignored',
    owners: allTo('O'),
    snapshot: [['O', []], ['S', [group({ instance: 'x' }, 1)]]],
    want: [],
  },
];

for (const c of cases) {
  test(`plan: ${c.name}`, () => {
    assert.deepEqual(brief(planRebalance(c.owners, new Map(c.snapshot))), c.want);
  });
}

test('plan: a move carries the stray copy as read, and the owner comes from the ring by shard key', () => {
  const ring = buildRing(['http://p1', 'http://p2', 'http://p3']);
  const key: GroupingKey = { job: 'x', instance: 'i' };
  const owner = ring.owner(shardKey(key));
  assert.ok(owner !== undefined);
  const from = ring.members.find((m) => m !== owner);
  assert.ok(from !== undefined);
  const copy = group(key, 42);
  const actions = planRebalance(ring, new Map(ring.members.map((m): [string, ApiGroup[]] => [m, m === from ? [copy] : []])));
  assert.deepEqual(actions, [{ kind: 'move', id: 0, key, from, to: owner, group: copy, pushTime: 42 }]);
});

test('summarizePlan counts actions by kind', () => {
  const actions = planRebalance(allTo('O'), new Map([
    ['O', [group({ job: 'd' }, 9)]],
    ['S1', [group(A, 300), group({ job: 'd' }, 1)]],
    ['S2', [group(A, 200)]],
  ]));
  assert.deepEqual(summarizePlan(actions), { moves: 1, deleteStrays: 2, waitingOnMove: 1 });
  assert.deepEqual(summarizePlan([]), { moves: 0, deleteStrays: 0, waitingOnMove: 0 });
});

test('plan invariants over random fleets and holdings', () => {
  const targets = ['t1', 't2', 't3', 't4'];
  const keys: GroupingKey[] = [{ job: 'a' }, { job: 'a', instance: '' }, { job: 'b', instance: 'x' }, { job: 'c' }, { job: 'd', x: 'y' }];
  const holdingsArb = fc.array(fc.tuple(fc.constantFrom(...targets), fc.constantFrom(...keys), fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined })), { maxLength: 20 });
  const arb = fc.record({ members: fc.subarray(targets), reachable: fc.subarray(targets), holdings: holdingsArb });
  fc.assert(
    fc.property(arb, ({ members, reachable, holdings }) => {
      const ring = buildRing(members);
      // Last listing per (target, group) wins, as one shard lists a group once.
      const byTarget = new Map<string, Map<string, ApiGroup>>(reachable.map((t) => [t, new Map()]));
      for (const [t, key, time] of holdings) byTarget.get(t)?.set(groupId(key), group(key, time));
      const snapshot = new Map([...byTarget].map(([t, gs]): [string, ApiGroup[]] => [t, [...gs.values()]]));
      const actions = planRebalance(ring, snapshot);

      const movesByGroup = new Map<string, RebalanceAction>();
      const handled = new Set<string>();
      for (const [i, a] of actions.entries()) {
        assert.equal(a.id, i);
        const owner = ring.owner(shardKey(a.key));
        assert.equal(a.to, owner, 'actions target the owner');
        assert.ok(snapshot.has(a.to), 'owner is reachable');
        assert.notEqual(a.from, a.to, 'nothing is done to the owner copy');
        const id = groupId(a.key);
        assert.ok(!handled.has(`${a.from}\u0001${id}`), 'one action per stray copy');
        handled.add(`${a.from}\u0001${id}`);
        const ownerTime = timeOn(snapshot, a.to, id);
        if (a.kind === 'move') {
          assert.ok(!movesByGroup.has(id), 'at most one move per group');
          movesByGroup.set(id, a);
          assert.ok(ownerTime === null || (a.pushTime ?? -Infinity) > (ownerTime ?? -Infinity), 'never overwrite an owner copy at least as fresh');
        } else if (a.after !== undefined) {
          const move = actions[a.after];
          assert.ok(move !== undefined && move.kind === 'move' && a.after < i && groupId(move.key) === id, 'after names an earlier move of the same group');
          assert.ok((a.pushTime ?? -Infinity) <= (move.pushTime ?? -Infinity), 'the freshest stray is the one moved');
        } else {
          assert.ok(ownerTime !== null && (a.pushTime ?? -Infinity) <= (ownerTime ?? -Infinity), 'independent deletes only under a fresher owner copy');
        }
      }
      // Every stray copy whose owner is known and reachable gets an action.
      for (const [t, gs] of snapshot) {
        for (const g of gs) {
          const key = { ...g.labels, job: g.labels['job'] ?? '' };
          const owner = ring.owner(shardKey(key));
          const expectAction = owner !== undefined && owner !== t && snapshot.has(owner);
          assert.equal(handled.has(`${t}\u0001${groupId(key)}`), expectAction);
        }
      }
    }),
    { numRuns: 500 },
  );
});

/** push time of group `id` on `target`: null when absent, undefined when it has no push time. */
function timeOn(snapshot: ReadonlyMap<string, readonly ApiGroup[]>, target: string, id: string): number | undefined | null {
  for (const g of snapshot.get(target) ?? []) {
    if (groupId({ ...g.labels, job: g.labels['job'] ?? '' }) === id) return pushTimeOf(g);
  }
  return null;
}
