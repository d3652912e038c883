/**
 * Seeded random schedules of a misbehaving source against the glue and the
 * real coordinator (sourced-world.ts): answers that are empty, much smaller,
 * flapping, terminating or failures, interleaved with shards that refuse
 * writes or stop answering. Checked after every step:
 *  - the source alone never empties the ring (every shard up ⇒ ring not empty);
 *  - source-driven drains at once ≤ max(1, floor(ratio × configured));
 * and at the end, once the source lists the whole fleet again and every
 * shard answers: every group exactly once, on its owner (nothing lost).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRandom } from '../support/seeded-random.js';
import { world } from './sourced-world.js';

const ALL = ['a:9091', 'b:9091', 'c:9091', 'd:9091', 'e:9091'] as const;
const SEEDS = 15;
const STEPS = 30;

test(`${SEEDS} seeded schedules of a misbehaving source keep the ring and every group`, async () => {
  const seen = { held: 0, draining: 0, dropped: 0, ignored: 0 };
  for (let seed = 1; seed <= SEEDS; seed++) {
    const rnd = new SeededRandom(seed);
    const w = await world([...ALL], { removeAfterMs: 3000, maxRemovalRatio: 0.5 });
    const jobs = ALL.flatMap((t) => [0, 1].map(() => {
      const job = w.jobOwnedBy(t);
      w.plant(t, job);
      return job;
    }));
    const some = (): string[] => ALL.filter(() => rnd.next() < 0.4);
    const one = (): string => ALL[rnd.int(ALL.length)] ?? 'a:9091';
    const log: string[] = [];
    const check = (): void => {
      const st = w.glue.status();
      const draining = st.leaving.filter((l) => l.phase === 'draining').length;
      const budget = Math.max(1, Math.floor(0.5 * w.configured().length));
      assert.ok(draining <= budget, `seed ${seed}: ${draining} drains at once, budget ${budget}\n${log.join('\n')}`);
      if (w.down.size === 0) assert.ok(w.ring().length > 0, `seed ${seed}: the ring is empty with every shard up\n${log.join('\n')}`);
    };
    for (let step = 0; step < STEPS; step++) {
      const r = rnd.int(9);
      if (r === 0) w.source.answer([]);
      else if (r === 1) {
        const few = some().slice(0, 2);
        w.source.answer(few.length > 0 ? few : [one()]);
      }
      else if (r === 2) w.source.answer(ALL.filter((t) => t !== one()));
      else if (r === 3) w.source.answer(ALL.map((t) => ({ address: t, labels: {}, terminating: rnd.next() < 0.3 })));
      else if (r === 4) w.source.fail('unreachable');
      else if (r === 5) w.refusing.add(one());
      else if (r === 6) w.refusing.clear();
      else if (r === 7 && w.down.size < 2) w.down.add(one());
      else if (r === 8) w.down.clear();
      else w.source.answer([...ALL]);
      log.push(`step ${step}: action ${r}, ring ${w.ring().join(',')}, configured ${w.configured().join(',')}, down ${[...w.down].join(',')}`);
      await w.wait(1000 * rnd.int(4), check);
      check();
    }
    // Heal: the whole fleet listed and answering, then let it settle.
    w.down.clear();
    w.refusing.clear();
    w.source.answer([...ALL]);
    await w.membership.checkAll();
    await w.wait(40_000);
    assert.deepEqual(w.ring(), [...ALL].sort(), `seed ${seed}: the whole fleet is back in the ring`);
    const where = new Map<string, string[]>();
    for (const t of ALL) for (const job of w.jobsOn(t)) where.set(job, [...(where.get(job) ?? []), t]);
    for (const job of jobs) {
      assert.deepEqual(where.get(job), [w.ownerOf(job)], `seed ${seed}: ${job} once, on its owner\n${log.join('\n')}`);
    }
    seen.held += w.logs.filter((l) => l.includes('shrink guard')).length;
    seen.draining += w.logs.filter((l) => l.includes('source: draining')).length;
    seen.dropped += w.logs.filter((l) => l.includes(': dropped')).length;
    seen.ignored += w.logs.filter((l) => l.includes('membership source failing')).length;
    w.stop();
  }
  // The schedules did exercise the rules.
  for (const [what, n] of Object.entries(seen)) assert.ok(n > 0, `no schedule exercised '${what}': ${JSON.stringify(seen)}`);
  process.stdout.write(`# misbehaving source: ${JSON.stringify(seen)}\n`);
});
