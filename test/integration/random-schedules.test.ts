/**
 * The simulation's idea on the real thing: seeded random schedules of client
 * writes and fleet changes against real pushgateways and a real shardgate,
 * checked from the outside against the simulation's reference model (one
 * pushgateway; a write answered 502/504 is in doubt):
 * - I1: after healing and settling, every group's content on the
 *   pushgateways is one the reference allows (absent included);
 * - I3: every group is on exactly one shard, its ring owner.
 * Fleet changes: a fourth shard joins and later leaves (drained first, then
 * removed by reload), drains and undrains, pauses (SIGSTOP beyond the
 * response timeout, so writes time out and apply late) and graceful
 * restarts. Fixed seeds; a failure prints the seed and its step log.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPushgateways, type TestPushgateway } from '../support/pushgateway.js';
import { startShardgate, type Shardgate } from '../support/shardgate.js';
import { groupsOn } from '../support/pushgateway-api.js';
import { waitFor } from '../support/wait-for.js';
import { prngFor, type Prng } from '../simulation/prng.js';
import { ReferenceModel, type ClientWrite } from '../simulation/reference-model.js';
import { renderBody, type FamilyName } from '../simulation/client-bodies.js';
import { describe, parseBody, type Content } from '../simulation/group-content.js';
import { type PushOutcome } from '../simulation/system-under-test.js';
import { groupId, type GroupingKey } from '../../src/groupingkey/grouping-key.js';
import { groupToExposition } from '../../src/rebalance/exposition.js';
import { readGroupingKey } from '../../src/upstream/group-facts.js';

const SEEDS = [1, 2, 3, 4, 5, 6];
const STEPS = 48;
/** Families whose text survives a real pushgateway unchanged (no empty label values). */
const FAMILIES: readonly FamilyName[] = ['sim_requests_total', 'sim_temperature', 'sim_latency_seconds', 'sim_size_bytes'];
const KEYS: readonly GroupingKey[] = ['j0', 'j1', 'j2'].flatMap((job) => ['i0', 'i1', 'a/b'].map((instance) => ({ job, instance })));

const live: Array<{ stop(): Promise<void> }> = [];
after(async () => {
  for (const x of live.reverse()) await x.stop();
});

const config = (targets: readonly string[]): string =>
  `targets: [${targets.map((t) => `"${t}"`).join(', ')}]\nhealth_check: { interval: 200ms, timeout: 400ms, fall: 2, rise: 2 }\nupstream: { response_timeout: 600ms }\nrebalance: { sweep_interval: 1s }\n`;

function pushPath(key: GroupingKey): string {
  const b64 = (v: string): string => Buffer.from(v).toString('base64url');
  return `/metrics/job/${key.job}/instance@base64/${b64(key['instance'] ?? '')}`;
}

function outcomeOf(status: number): PushOutcome {
  if (status >= 200 && status < 300) return 'ack';
  if (status === 502 || status === 504) return 'in-doubt';
  if (status === 503) return 'refused';
  return 'rejected';
}

interface Fleet {
  readonly pgs: readonly TestPushgateway[];
  readonly sg: Shardgate;
  configured: string[];
  draining: Set<string>;
  paused: Set<TestPushgateway>;
}

async function api<T>(sg: Shardgate, path: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const res = await fetch(`${sg.url}${path}`, init);
  return { status: res.status, body: (await res.json().catch(() => undefined)) as T };
}

async function clientWrite(f: Fleet, prng: Prng, ref: ReferenceModel, version: number, log: string[]): Promise<void> {
  const key = prng.pick(KEYS);
  const roll = prng.next();
  const method = roll < 0.45 ? 'PUT' : roll < 0.85 ? 'POST' : 'DELETE';
  let write: ClientWrite;
  let body: string | undefined;
  if (method === 'DELETE') {
    write = { method };
  } else {
    const families = prng.shuffled(FAMILIES).slice(0, prng.int(1, FAMILIES.length));
    body = renderBody(families, version);
    write = { method, body: parseBody(body, key) };
  }
  const res = await fetch(`${f.sg.url}${pushPath(key)}`, { method, body, signal: AbortSignal.timeout(30_000) });
  await res.arrayBuffer();
  const outcome = outcomeOf(res.status);
  log.push(`${method} v${version} ${JSON.stringify(key)} -> ${res.status} (${outcome})`);
  ref.record(groupId(key), key, write, outcome);
}

async function fleetChange(f: Fleet, prng: Prng, log: string[]): Promise<void> {
  const [a, b, c, d] = f.pgs as [TestPushgateway, TestPushgateway, TestPushgateway, TestPushgateway];
  const roll = prng.int(0, 4);
  if (roll === 0 && !f.configured.includes(d.target)) {
    f.configured = [a.target, b.target, c.target, d.target];
    await f.sg.writeConfig(config(f.configured));
    log.push(`reload: add ${d.target} -> ${(await fetch(`${f.sg.url}/-/reload`, { method: 'POST' })).status}`);
  } else if (roll === 0) {
    // Scale-in as the README says: drain, wait until drained, then remove. A paused shard cannot be drained.
    if (f.paused.has(d)) return;
    await fetch(`${f.sg.url}/api/v1/admin/drain?target=${d.target}`, { method: 'POST' });
    await waitFor(async () => (await api<{ data: Array<{ target: string; drain: { state: string } | null }> }>(f.sg, '/api/v1/shards')).body.data.find((s) => s.target === d.target)?.drain?.state === 'drained', { timeoutMs: 30_000, what: `${d.target} drained` });
    f.configured = [a.target, b.target, c.target];
    await f.sg.writeConfig(config(f.configured));
    log.push(`drain and remove ${d.target} -> ${(await fetch(`${f.sg.url}/-/reload`, { method: 'POST' })).status}`);
  } else if (roll === 1) {
    const t = prng.pick(f.configured);
    const on = !f.draining.has(t);
    const res = await fetch(`${f.sg.url}/api/v1/admin/drain?target=${t}`, { method: on ? 'POST' : 'DELETE' });
    if (res.status === 202) {
      if (on) f.draining.add(t);
      else f.draining.delete(t);
    }
    log.push(`${on ? 'drain' : 'undrain'} ${t} -> ${res.status}`);
  } else if (roll === 2) {
    const candidates = f.pgs.filter((p) => f.configured.includes(p.target) && !f.paused.has(p));
    // Keep one shard running: with every shard paused nothing can be checked.
    if (candidates.length < 2) return;
    const pg = prng.pick(candidates);
    process.kill(pg.pid, 'SIGSTOP');
    f.paused.add(pg);
    log.push(`pause ${pg.target}`);
  } else if (roll === 3) {
    if (f.paused.size === 0) return;
    const pg = prng.pick([...f.paused]);
    process.kill(pg.pid, 'SIGCONT');
    f.paused.delete(pg);
    log.push(`resume ${pg.target}`);
  } else {
    const running = f.pgs.filter((p) => !f.paused.has(p));
    if (running.length === 0) return;
    const pg = prng.pick(running);
    await pg.restart();
    log.push(`restart ${pg.target}`);
  }
}

/** Every copy of every group, by groupId, as content the reference can compare. */
async function holdings(pgs: readonly TestPushgateway[]): Promise<Map<string, { key: GroupingKey; copies: Array<{ target: string; content: Content }> }>> {
  const out = new Map<string, { key: GroupingKey; copies: Array<{ target: string; content: Content }> }>();
  for (const pg of pgs) {
    for (const g of await groupsOn(pg.url)) {
      const key = readGroupingKey(g);
      if (key === undefined) continue;
      const id = groupId(key);
      const entry = out.get(id) ?? { key, copies: [] };
      entry.copies.push({ target: pg.target, content: parseBody(groupToExposition(g), key) });
      out.set(id, entry);
    }
  }
  return out;
}

for (const seed of SEEDS) {
  test(`random schedule, seed ${seed}: no lost write, one home per group (real pushgateways)`, async () => {
    const pgs = await startPushgateways(4);
    live.push(...pgs);
    const three = pgs.slice(0, 3).map((p) => p.target);
    const sg = await startShardgate({ config: config(three), args: ['--web.enable-admin-api', '--web.enable-lifecycle'], waitReady: true });
    live.push(sg);
    const f: Fleet = { pgs, sg, configured: three, draining: new Set(), paused: new Set() };
    const prng = prngFor(seed);
    const ref = new ReferenceModel();
    const log: string[] = [];
    try {
      for (let step = 1; step <= STEPS; step++) {
        if (prng.chance(0.65)) await clientWrite(f, prng, ref, step, log);
        else await fleetChange(f, prng, log);
      }
      // Heal: resume, undrain, every shard configured; then wait until the fleet settled.
      for (const pg of f.paused) process.kill(pg.pid, 'SIGCONT');
      for (const t of f.draining) await fetch(`${sg.url}/api/v1/admin/drain?target=${t}`, { method: 'DELETE' });
      await sg.writeConfig(config(pgs.map((p) => p.target)));
      assert.equal((await fetch(`${sg.url}/-/reload`, { method: 'POST' })).status, 200);
      let last = '';
      await waitFor(
        async () => {
          const shards = (await api<{ data: Array<{ in_ring: boolean }> }>(sg, '/api/v1/shards')).body.data;
          const metrics = await (await fetch(`${sg.url}/metrics`)).text();
          if (!shards.every((s) => s.in_ring) || !/shardgate_rebalance_pending_moves 0\b/.test(metrics)) return false;
          const held = await holdings(pgs);
          for (const { key, copies } of held.values()) {
            const owner = (await api<{ owner: string }>(sg, pushPath(key))).body.owner;
            if (copies.length !== 1 || copies[0]?.target !== owner) {
              last = `${JSON.stringify(key)} on ${copies.map((c) => c.target).join(',')} (owner ${String(owner)})`;
              return false;
            }
          }
          return true;
        },
        { timeoutMs: 60_000, what: `seed ${seed}: one copy per group on its owner (I3); last seen: ${last}` },
      );
      const held = await holdings(pgs);
      const wrong: string[] = [];
      for (const id of new Set([...ref.ids(), ...held.keys()])) {
        const content = held.get(id)?.copies[0]?.content;
        if (!ref.allows(id, content)) wrong.push(`${id.replaceAll('\u0000', ' ')}: holds ${describe(content)}; allowed ${ref.possible(id).map(describe).join(' | ')}`);
      }
      assert.deepEqual(wrong, [], `seed ${seed}: I1 violated`);
      assert.ok(ref.ids().length > 0, 'the schedule wrote something');
      const kinds = (re: RegExp): number => log.filter((l) => re.test(l)).length;
      process.stdout.write(`# seed ${seed}: ${kinds(/^(PUT|POST|DELETE)/)} writes (${kinds(/in-doubt/)} in doubt), ${kinds(/^pause/)} pauses, ${kinds(/^restart/)} restarts, ${kinds(/^(drain|undrain|reload)/)} drains and reloads\n`);
    } catch (err) {
      process.stdout.write(`# seed ${seed} steps:\n${log.map((l) => `#   ${l}`).join('\n')}\n`);
      throw err;
    } finally {
      for (const pg of f.paused) process.kill(pg.pid, 'SIGCONT');
    }
  });
}
