/**
 * A schedule, generated from a seed: the initial fleet, the groups, one
 * sequential client per group (one request in flight per group, like a
 * batch job; the groups push concurrently), and fleet events interleaved
 * with the pushes. Pure: the same seed always gives the same schedule.
 *
 * Fleet events name their victim by a random `pick`, resolved when the
 * event runs against the shards that qualify then (e.g. a live one), so the
 * plan stays static while its targets follow the run.
 */
import { type GroupingKey } from '../../src/groupingkey/grouping-key.js';
import { FAMILY_NAMES, type FamilyName } from './client-bodies.js';
import { type Prng } from './prng.js';

export interface ClientOp {
  readonly method: 'PUT' | 'POST' | 'DELETE';
  readonly families: readonly FamilyName[];
  /** Pause after the previous op settled (the first op: after the client's start). */
  readonly thinkMs: number;
}

export interface Client {
  readonly group: GroupingKey;
  readonly startMs: number;
  readonly ops: readonly ClientOp[];
}

export type FleetAction =
  | { readonly kind: 'add' }
  | { readonly kind: 'remove'; readonly pick: number }
  | { readonly kind: 'kill'; readonly pick: number; readonly restartAfterMs: number | null; readonly oldCopies: number }
  | { readonly kind: 'pause'; readonly pick: number; readonly resumeAfterMs: number }
  | { readonly kind: 'drain'; readonly pick: number }
  | { readonly kind: 'undrain'; readonly pick: number }
  | { readonly kind: 'reload-empty' }
  | { readonly kind: 'check-all' }
  | { readonly kind: 'plant'; readonly pick: number; readonly shards: number }
  | { readonly kind: 'flaky'; readonly pick: number; readonly forMs: number };

export interface FleetEvent {
  readonly atMs: number;
  readonly action: FleetAction;
}

export interface Schedule {
  readonly seed: number;
  readonly shards: number;
  readonly clients: readonly Client[];
  readonly fleet: readonly FleetEvent[];
}

/**
 * Grouping keys to draw from. Pairs that differ only by an empty label
 * value are two groups with one shard key; `z/1` and `..` need @base64.
 */
const KEYS: readonly GroupingKey[] = [
  key({ job: 'a' }),
  key({ job: 'a', instance: '' }),
  key({ job: 'a', instance: 'i1' }),
  key({ job: 'b' }),
  key({ job: 'b', zone: 'z/1' }),
  key({ job: 'c', instance: 'x' }),
  key({ job: 'c', instance: 'x', zone: '' }),
  key({ job: 'd', path: '..' }),
  key({ job: 'e', instance: 'i2' }),
  key({ job: 'f' }),
];

function key(labels: Record<string, string> & { job: string }): GroupingKey {
  return Object.freeze({ ...labels });
}

const WEIGHTS: ReadonlyArray<readonly [FleetAction['kind'], number]> = [
  ['add', 1],
  ['remove', 0.6],
  ['kill', 1.2],
  ['pause', 1.5],
  ['drain', 1],
  ['undrain', 0.6],
  ['reload-empty', 0.3],
  ['check-all', 0.8],
  ['plant', 1.5],
  ['flaky', 0.8],
];

export function generateSchedule(seed: number, prng: Prng): Schedule {
  const shards = prng.int(3, 6);
  const groups = prng.shuffled(KEYS).slice(0, prng.int(3, 8));
  const clients = groups.map((group): Client => ({ group, startMs: prng.int(0, 40_000), ops: clientOps(prng) }));
  const fleet: FleetEvent[] = [];
  const n = prng.int(3, 14);
  for (let i = 0; i < n; i++) fleet.push({ atMs: prng.int(1000, 150_000), action: fleetAction(prng) });
  fleet.sort((a, b) => a.atMs - b.atMs);
  return { seed, shards, clients, fleet };
}

function clientOps(prng: Prng): ClientOp[] {
  const ops: ClientOp[] = [];
  const count = prng.int(3, 16);
  for (let i = 0; i < count; i++) {
    const r = prng.next();
    const method = i === 0 || r < 0.45 ? 'PUT' : r < 0.9 ? 'POST' : 'DELETE';
    const thinkMs = i === 0 ? 0 : prng.chance(0.85) ? prng.int(100, 5000) : prng.int(10_000, 30_000);
    ops.push({ method, families: method === 'DELETE' ? [] : families(prng, method), thinkMs });
  }
  return ops;
}

function families(prng: Prng, method: 'PUT' | 'POST'): FamilyName[] {
  // An empty PUT empties the group (and still sets push_time_seconds).
  if (method === 'PUT' && prng.chance(0.05)) return [];
  const chosen = FAMILY_NAMES.filter(() => prng.chance(0.4));
  return chosen.length > 0 ? chosen : [prng.pick(FAMILY_NAMES)];
}

function fleetAction(prng: Prng): FleetAction {
  const total = WEIGHTS.reduce((s, [, w]) => s + w, 0);
  let x = prng.next() * total;
  let kind: FleetAction['kind'] = 'check-all';
  for (const [k, w] of WEIGHTS) {
    x -= w;
    if (x < 0) {
      kind = k;
      break;
    }
  }
  const pick = prng.u32();
  switch (kind) {
    case 'add':
    case 'reload-empty':
    case 'check-all':
      return { kind };
    case 'remove':
    case 'drain':
    case 'undrain':
      return { kind, pick };
    case 'kill':
      return { kind, pick, restartAfterMs: prng.chance(0.7) ? prng.int(1000, 60_000) : null, oldCopies: prng.chance(0.4) ? prng.int(1, 3) : 0 };
    case 'pause':
      // Some pauses end before health checks notice, others take the shard out of the ring.
      return { kind, pick, resumeAfterMs: prng.chance(0.5) ? prng.int(500, 8000) : prng.int(8000, 45_000) };
    case 'plant':
      return { kind, pick, shards: prng.chance(0.5) ? 1 : prng.int(2, 3) };
    case 'flaky':
      return { kind, pick, forMs: prng.int(2000, 30_000) };
  }
}
