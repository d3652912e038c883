/**
 * The contract of `push.consistency_check: gateway`: the fleet answers like
 * ONE pushgateway with its check on that held every group. Seeded random
 * push sequences (support/push-sequences.ts) are played to a reference
 * pushgateway (check on) and to shardgate (4 shards with the check off),
 * push by push: every push must get the same status, and after each
 * sequence the union of the shards' stores must equal the reference store
 * (families, types, HELP, series and values; the two timestamp gauges
 * compared as zero / non-zero).
 *
 * Membership is pinned (no shard is ever marked down): a move re-creates a
 * group from its content and does not carry its push_failure_time_seconds,
 * which this comparison would report. The rebalancer sweeps every second,
 * so groups created only by a rejected push's failure stamp must be known
 * to it as written (an early run lost one to a sweep).
 *
 * Replay: DIFF_SEED=<seed> DIFF_PUSHES=<n> node --test dist/test/integration/consistency-differential.test.js
 * (DIFF_MODE=shard runs the control, which must diverge: the shards do not check at all).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPushgateway, startPushgateways, type TestPushgateway } from '../support/pushgateway.js';
import { startShardgate, type Shardgate } from '../support/shardgate.js';
import { groupsOn } from '../support/pushgateway-api.js';
import { waitFor } from '../support/wait-for.js';
import { SeededRandom } from '../support/seeded-random.js';
import { randomPush, type RandomPush } from '../support/push-sequences.js';
import { type ApiGroup, familiesOf } from '../../src/upstream/metrics-api.js';

const SEED = Number(process.env['DIFF_SEED'] ?? 20261123);
const PUSHES = Number(process.env['DIFF_PUSHES'] ?? 10_000);
const SEQUENCE_LENGTH = 50;

let reference: TestPushgateway;
let shards: TestPushgateway[];
let sg: Shardgate;

before(async () => {
  [reference, shards] = await Promise.all([startPushgateway(), startPushgateways(4, { extraArgs: ['--push.disable-consistency-check'] })]);
  sg = await startShardgate({
    config: `targets: [${shards.map((s) => `"${s.target}"`).join(', ')}]\npush: { consistency_check: ${process.env['DIFF_MODE'] ?? 'gateway'} }\nhealth_check: { interval: 200ms, timeout: 5s, rise: 1, fall: 1000000 }\nrebalance: { sweep_interval: 1s }\n`,
    args: ['--web.enable-admin-api'],
    waitReady: true,
  });
  // Every shard in the ring before the first push, so no group moves during the test.
  await waitFor(async () => (JSON.stringify(await (await fetch(`${sg.url}/api/v1/shards`)).json()).match(/"health":"up"/g) ?? []).length === 4, { what: 'all four shards up' });
});
after(async () => {
  await sg?.stop();
  await Promise.all([reference?.stop(), ...(shards ?? []).map((s) => s.stop())]);
});

async function send(base: string, p: RandomPush): Promise<{ status: number; text: string }> {
  const res = await fetch(`${base}${p.path}`, { method: p.method, headers: p.headers, ...(p.method === 'DELETE' ? {} : { body: new Uint8Array(p.body) }) });
  return { status: res.status, text: await res.text() };
}

/** A store as comparable text: one line per group. */
function normalize(groups: readonly ApiGroup[]): string[] {
  return groups
    .map((g) => {
      const families = familiesOf(g)
        .map(([name, f]) => {
          const timestamp = name === 'push_time_seconds' || name === 'push_failure_time_seconds';
          const metrics = f.metrics
            .map((m) => JSON.stringify([sorted(m.labels), timestamp ? m.value === '0' : m.value, m.quantiles ?? null, m.buckets ?? null, m.count ?? null, m.sum ?? null]))
            .sort();
          return JSON.stringify([name, f.type, timestamp ? '' : (f.help ?? ''), metrics]);
        })
        .sort();
      return JSON.stringify([sorted(g.labels), g.last_push_successful, families]);
    })
    .sort();
}

function sorted(o: Readonly<Record<string, string>>): Array<[string, string]> {
  return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1));
}

async function wipeAll(): Promise<void> {
  await Promise.all([fetch(`${reference.url}/api/v1/admin/wipe`, { method: 'PUT' }), fetch(`${sg.url}/api/v1/admin/wipe`, { method: 'PUT' })]);
  await waitFor(async () => (await Promise.all([reference, ...shards].map((pg) => groupsOn(pg.url)))).every((g) => g.length === 0), { what: 'stores to be wiped', intervalMs: 5 });
}

test(`gateway mode decides ${PUSHES} random pushes exactly as one checked pushgateway (seed ${SEED})`, { timeout: 600_000 }, async () => {
  let played = 0;
  let rejected = 0;
  const reasons = new Map<string, number>();
  for (let sequence = 0; played < PUSHES; sequence++) {
    const seed = SEED + sequence;
    const rnd = new SeededRandom(seed);
    await wipeAll();
    const log: string[] = [];
    for (let i = 0; i < SEQUENCE_LENGTH && played < PUSHES; i++, played++) {
      const push = randomPush(rnd);
      // Both sides at once (they share nothing); the next push waits for both answers.
      const [want, got] = await Promise.all([send(reference.url, push), send(sg.url, push)]);
      log.push(`${i}: ${push.method} ${push.path} ${JSON.stringify(push.text)} -> reference ${want.status} ${want.text.trim()} / shardgate ${got.status} ${got.text.trim()}`);
      if (want.status === 400) {
        rejected++;
        const reason = want.text.replace(/\{.*\}/s, '{…}').replace(/"[^"]*"/g, '"…"').slice(0, 110);
        reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      }
      assert.equal(got.status, want.status, `sequence seed ${seed} (DIFF_SEED=${SEED}), push ${i} diverged:\n${log.join('\n')}`);
      // Parse errors are deterministic: the same words. (Check errors name whichever conflict Go's map order met first.)
      if (want.text.startsWith('text format parsing error')) assert.equal(got.text, want.text, `sequence seed ${seed}, push ${i}: parse error message differs`);
    }
    // Writes are queued in each pushgateway: poll until both sides settled on the same store.
    const reference_ = async (): Promise<string[]> => normalize(await groupsOn(reference.url));
    const union = async (): Promise<string[]> => normalize((await Promise.all(shards.map((s) => groupsOn(s.url)))).flat());
    let last: [string[], string[]] = [[], []];
    try {
      await waitFor(async () => {
        last = [await reference_(), await union()];
        return JSON.stringify(last[0]) === JSON.stringify(last[1]);
      }, { timeoutMs: 3_000, intervalMs: 20, what: 'stores to match' });
    } catch {
      const membership = sg.logs().split('\n').filter((l) => /component=(membership|rebalance)/.test(l) && !/level=debug/.test(l));
      assert.deepEqual(last[1], last[0], `sequence seed ${seed}: the shards' union differs from the reference store after:\n${log.join('\n')}\nmembership/rebalance log:\n${membership.join('\n')}`);
    }
  }
  console.log(`consistency differential: ${played} pushes, ${rejected} rejected by the reference, zero divergences (seed ${SEED})`);
  for (const [reason, n] of [...reasons].sort((a, b) => b[1] - a[1])) console.log(`  ${n} × ${reason}`);
});
