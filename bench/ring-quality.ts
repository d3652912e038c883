/**
 * Suite 3, ring quality: pure and in-process, on the ring shardgate routes
 * with (`buildRing`) and the key it hashes (`shardKey`).
 *  - balance: max/mean keys per shard;
 *  - movement when one shard joins (ideal 1/(n+1) of the keys) or leaves
 *    (ideal 1/n), worst of several trials, plus "stray" moves between two
 *    shards that neither joined nor left (rendezvous promises none);
 *  - lookup cost: shardKey + owner per key, in ns.
 */
import { buildRing } from '../src/ring/rendezvous-ring.js';
import { type Ring } from '../src/ring/ring.js';
import { shardKey, type GroupingKey } from '../src/groupingkey/grouping-key.js';
import { check, type TargetCheck } from './targets.js';
import { progress } from './progress.js';
import { round } from './stats.js';

export interface RingQualityOptions {
  readonly keys: number;
  readonly shardCounts: readonly number[];
  /** Distinct keys timed for the lookup cost, and how many passes over them. */
  readonly lookupKeys: number;
  readonly lookupPasses: number;
}

export interface Movement {
  readonly trials: number;
  readonly idealFraction: number;
  readonly meanFraction: number;
  readonly worstFraction: number;
  readonly worstOverIdeal: number;
  /** Keys that moved between two shards that neither joined nor left. */
  readonly strayMoves: number;
}

export interface RingRow {
  readonly shards: number;
  readonly keys: number;
  readonly minLoad: number;
  readonly maxLoad: number;
  readonly meanLoad: number;
  readonly maxOverMean: number;
  readonly join: Movement;
  readonly leave: Movement;
  readonly shardKeyNs: number;
  readonly ownerNs: number;
  readonly lookupNs: number;
}

export interface RingQualityResult {
  readonly options: RingQualityOptions;
  readonly rows: readonly RingRow[];
  readonly checks: readonly TargetCheck[];
}

export const RING_TARGETS = { maxOverMeanAt10: 1.05, movementOverIdeal: 1.1, lookupNs: 2000 } as const;
const JOIN_TRIALS = 3;
const WARMUP_PASSES = 3;
const TIMING_ROUNDS = 5;

/** A varied, deterministic key: 997 jobs × unique instance addresses. */
export function keyAt(i: number): GroupingKey {
  return Object.freeze({ job: `batch_job_${i % 997}`, instance: `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}:9100` });
}

function member(k: number): string {
  return `pushgateway-${k}.bench.svc:9091`;
}

export function runRingQuality(opts: RingQualityOptions): RingQualityResult {
  const rows = opts.shardCounts.map((n) => {
    progress(`ring-quality: ${n} shards, ${opts.keys.toLocaleString('en')} keys`);
    return measureRing(n, opts);
  });
  const checks: TargetCheck[] = [];
  const at10 = rows.find((r) => r.shards === 10);
  if (at10) checks.push(check('max/mean load at 10 shards', `≤ ${RING_TARGETS.maxOverMeanAt10}`, at10.maxOverMean.toFixed(4), at10.maxOverMean <= RING_TARGETS.maxOverMeanAt10));
  for (const r of rows) {
    const worst = Math.max(r.join.worstOverIdeal, r.leave.worstOverIdeal);
    checks.push(check(`keys moved on join/leave at ${r.shards} shards (worst trial / ideal)`, `≤ ${RING_TARGETS.movementOverIdeal}× ideal`, `${worst.toFixed(3)}×`, worst <= RING_TARGETS.movementOverIdeal));
  }
  for (const r of rows) {
    checks.push(check(`lookup (shardKey + owner) at ${r.shards} shards`, `< ${RING_TARGETS.lookupNs / 1000} µs`, `${r.lookupNs.toFixed(0)} ns`, r.lookupNs < RING_TARGETS.lookupNs));
  }
  return { options: opts, rows, checks };
}

function measureRing(n: number, opts: RingQualityOptions): RingRow {
  const members = Array.from({ length: n }, (_, k) => member(k));
  const base = buildRing(members);
  const index = new Map(base.members.map((m, i) => [m, i]));
  const owners = new Uint16Array(opts.keys);
  const load = new Array<number>(n).fill(0);
  for (let i = 0; i < opts.keys; i++) {
    const o = index.get(base.owner(shardKey(keyAt(i))) ?? '') ?? 0;
    owners[i] = o;
    load[o] = (load[o] ?? 0) + 1;
  }
  const meanLoad = opts.keys / n;
  const maxLoad = Math.max(...load);
  const busiest = base.members[load.indexOf(maxLoad)] ?? '';

  // Joins: fresh members; leaves: the busiest shard (worst case) and two others.
  const joins = Array.from({ length: JOIN_TRIALS }, (_, j) => member(n + j));
  const leavers = [...new Set([busiest, base.members[0] ?? '', base.members[n - 1] ?? ''])].slice(0, Math.min(3, n - 1));
  const changed: { kind: 'join' | 'leave'; who: string; ring: Ring; moved: number; stray: number }[] = [
    ...joins.map((who) => ({ kind: 'join' as const, who, ring: buildRing([...members, who]), moved: 0, stray: 0 })),
    ...leavers.map((who) => ({ kind: 'leave' as const, who, ring: buildRing(members.filter((m) => m !== who)), moved: 0, stray: 0 })),
  ];
  for (let i = 0; i < opts.keys; i++) {
    const sk = shardKey(keyAt(i));
    const before = base.members[owners[i] ?? 0] ?? '';
    for (const c of changed) {
      const after = c.ring.owner(sk) ?? '';
      if (after === before) continue;
      c.moved++;
      if (c.kind === 'join' ? after !== c.who : before !== c.who) c.stray++;
    }
  }
  const movement = (kind: 'join' | 'leave', ideal: number): Movement => {
    const trials = changed.filter((c) => c.kind === kind);
    const fractions = trials.map((c) => c.moved / opts.keys);
    const worst = Math.max(...fractions);
    return {
      trials: trials.length,
      idealFraction: round(ideal, 6),
      meanFraction: round(fractions.reduce((a, b) => a + b, 0) / fractions.length, 6),
      worstFraction: round(worst, 6),
      worstOverIdeal: round(worst / ideal, 4),
      strayMoves: trials.reduce((a, c) => a + c.stray, 0),
    };
  };
  const cost = lookupCost(base, opts);
  return {
    shards: n,
    keys: opts.keys,
    minLoad: Math.min(...load),
    maxLoad,
    meanLoad: round(meanLoad, 1),
    maxOverMean: round(maxLoad / meanLoad, 4),
    join: movement('join', 1 / (n + 1)),
    leave: movement('leave', 1 / n),
    ...cost,
  };
}

/** ns per key for shardKey alone, owner alone, and both, over prebuilt keys. */
function lookupCost(ring: Ring, opts: RingQualityOptions): { shardKeyNs: number; ownerNs: number; lookupNs: number } {
  const keys = Array.from({ length: opts.lookupKeys }, (_, i) => keyAt(i * 7919));
  const shardKeys = keys.map(shardKey);
  let sink = 0;
  // Median of several rounds, after warm-up passes, so JIT tiering and a
  // stray GC pause do not decide the figure.
  const time = (pass: () => void): number => {
    for (let w = 0; w < WARMUP_PASSES; w++) pass();
    const rounds: number[] = [];
    for (let r = 0; r < TIMING_ROUNDS; r++) {
      const t0 = process.hrtime.bigint();
      for (let p = 0; p < opts.lookupPasses; p++) pass();
      rounds.push(Number(process.hrtime.bigint() - t0) / (opts.lookupPasses * keys.length));
    }
    return rounds.sort((a, b) => a - b)[Math.floor(TIMING_ROUNDS / 2)] ?? NaN;
  };
  const shardKeyNs = time(() => {
    for (const k of keys) sink += shardKey(k).length;
  });
  const ownerNs = time(() => {
    for (const sk of shardKeys) sink += ring.owner(sk)?.length ?? 0;
  });
  const lookupNs = time(() => {
    for (const k of keys) sink += ring.owner(shardKey(k))?.length ?? 0;
  });
  if (sink === 0) throw new Error('lookup produced nothing');
  return { shardKeyNs: round(shardKeyNs, 1), ownerNs: round(ownerNs, 1), lookupNs: round(lookupNs, 1) };
}
