/**
 * Group expiry against real pushgateways, a real shardgate and a real
 * Prometheus. Groups under two rules and the default are pushed once; each
 * disappears from every shard after its age and not before; a group pushed
 * again before its expiry survives it; a group moved by a rebalance (a
 * shard added by reload) keeps its age from the client's push; Prometheus
 * stops returning the expired series.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPushgateways, type TestPushgateway } from '../support/pushgateway.js';
import { startShardgate, type Shardgate } from '../support/shardgate.js';
import { startPrometheus } from '../support/prometheus.js';
import { groupsOn } from '../support/pushgateway-api.js';
import { waitFor } from '../support/wait-for.js';
import { pushTimeOf } from '../../src/upstream/group-facts.js';

const live: Array<{ stop(): Promise<void> }> = [];
after(async () => {
  for (const x of live.reverse()) await x.stop();
});

const AGE: Record<string, number> = { short: 2000, mid: 5000, other: 3500 };
const expiryConfig = `expiry:
  interval: 100ms
  rules:
    - match: '{job="short"}'
      max_age: 2s
    - match: '{job=~"mid|moved"}'
      max_age: 5s
  default: 3500ms
`;
const config = (pgs: TestPushgateway[]): string =>
  `targets: [${pgs.map((p) => `"${p.target}"`).join(', ')}]\nhealth_check: { interval: 200ms, timeout: 1s }\nrebalance: { sweep_interval: 1s }\n${expiryConfig}`;

async function push(sg: Shardgate, job: string, instance: string): Promise<void> {
  const res = await fetch(`${sg.url}/metrics/job/${job}/instance/${instance}`, { method: 'PUT', body: `# TYPE expiry_e2e gauge\nexpiry_e2e 1\n` });
  assert.equal(res.status, 200, await res.text());
}

/** "job/instance" → shards holding it. */
async function where(pgs: TestPushgateway[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const pg of pgs) {
    for (const g of await groupsOn(pg.url)) {
      const k = `${g.labels['job'] ?? ''}/${g.labels['instance'] ?? ''}`;
      out.set(k, [...(out.get(k) ?? []), pg.target]);
    }
  }
  return out;
}

test('groups expire by rule and default, after their age and not before; a re-push survives; Prometheus drops them', async () => {
  const pgs = await startPushgateways(2);
  live.push(...pgs);
  const sg = await startShardgate({ config: config(pgs), waitReady: true });
  live.push(sg);
  const prom = await startPrometheus(`global: { scrape_interval: 500ms, scrape_timeout: 400ms }
scrape_configs:
  - job_name: pushgateway
    honor_labels: true
    http_sd_configs: [{ url: "${sg.url}/api/v1/sd", refresh_interval: 1s }]
`);
  live.push(prom);
  await waitFor(async () => (await prom.activeTargets()).length === 2, { timeoutMs: 20_000, what: 'Prometheus to discover both shards' });

  // Pushed once: four groups under each rule and the default; "short/keep" will be pushed again.
  const sentAt = new Map<string, number>();
  for (const job of ['short', 'mid', 'other']) {
    for (let i = 0; i < 4; i++) {
      sentAt.set(`${job}/i${i}`, Date.now());
      await push(sg, job, `i${i}`);
    }
  }
  sentAt.set('short/keep', Date.now());
  await push(sg, 'short', 'keep');

  // The lookup shows each group's rule and expiry time.
  const lookup = (await (await fetch(`${sg.url}/metrics/job/mid/instance/i0`)).json()) as { expiry: { rule: string; max_age_seconds: number; expires_at: string } };
  assert.equal(lookup.expiry.rule, '{job=~"mid|moved"}');
  assert.equal(lookup.expiry.max_age_seconds, 5);
  assert.ok(Math.abs(Date.parse(lookup.expiry.expires_at) - ((sentAt.get('mid/i0') ?? 0) + 5000)) < 1000, lookup.expiry.expires_at);
  const defaulted = (await (await fetch(`${sg.url}/metrics/job/other/instance/i0`)).json()) as { expiry: { rule: string } };
  assert.equal(defaulted.expiry.rule, 'default');

  // Prometheus sees the series before they expire (the 5 s ones; the 2 s ones may already be gone).
  await waitFor(async () => (await prom.query('expiry_e2e{job="mid"}')).length === 4, { timeoutMs: 4000, what: 'Prometheus to scrape the mid groups' });

  // Watch until every group but the re-pushed one is gone; a group gone before its age fails the test.
  const goneAt = new Map<string, number>();
  let repushed = false;
  await waitFor(
    async () => {
      const now = Date.now();
      const present = await where(pgs);
      for (const [k, sent] of sentAt) {
        const age = AGE[k.split('/')[0] ?? ''] ?? 0;
        const shards = present.get(k);
        if (shards !== undefined) assert.ok(shards.length === 1, `${k} on ${shards.join(', ')}`);
        if (shards === undefined && !goneAt.has(k)) {
          assert.ok(now >= sent + age, `${k} disappeared ${sent + age - now} ms before its age`);
          goneAt.set(k, now);
        }
      }
      // Pushed again 1 s after its first push, before its 2 s age: from then on "not before" counts from this push.
      if (!repushed && now >= (sentAt.get('short/keep') ?? 0) + 1000) {
        repushed = true;
        sentAt.set('short/keep', Date.now());
        await push(sg, 'short', 'keep');
      }
      return [...sentAt.keys()].filter((k) => k !== 'short/keep').every((k) => goneAt.has(k));
    },
    { timeoutMs: 30_000, intervalMs: 100, what: 'every group to expire' },
  );
  // Each went within a few sweeps of its age (slack for a loaded machine).
  for (const [k, at] of goneAt) {
    const late = at - ((sentAt.get(k) ?? 0) + (AGE[k.split('/')[0] ?? ''] ?? 0));
    assert.ok(late < 3000, `${k} expired ${late} ms after its age`);
  }
  // The re-pushed group outlived its first expiry time (the watch above fails if it went before its second push's age).
  assert.ok(repushed);
  await waitFor(async () => !(await where(pgs)).has('short/keep'), { timeoutMs: 10_000, what: 'short/keep to expire after its second push' });
  assert.ok(Date.now() >= (sentAt.get('short/keep') ?? 0) + 2000);

  // Prometheus stops returning the expired series.
  await waitFor(async () => (await prom.query('expiry_e2e')).length === 0, { timeoutMs: 15_000, what: 'Prometheus to stop returning expired series' });

  // One log line per sweep that expired something, with counts by rule; and the metric by rule.
  assert.match(sg.logs(), /expiry sweep deleted groups/);
  const metrics = await (await fetch(`${sg.url}/metrics`)).text();
  assert.match(metrics, /shardgate_expiry_groups_expired_total\{rule="\{job=\\"short\\"\}"\} 5/);
  assert.match(metrics, /shardgate_expiry_groups_expired_total\{rule="default"\} 4/);
  assert.match(metrics, /shardgate_expiry_groups_expired_total\{rule="\{job=~\\"mid\|moved\\"\}"\} 4/);
});

test('a rebalance move does not reset a group\'s age: it expires from the client\'s push', async () => {
  const pgs = await startPushgateways(3);
  live.push(...pgs);
  const [a, b, c] = pgs as [TestPushgateway, TestPushgateway, TestPushgateway];
  const sg = await startShardgate({ config: config([a, b]), args: ['--web.enable-lifecycle'], waitReady: true });
  live.push(sg);
  const N = 12;
  const firstSent = Date.now();
  for (let i = 0; i < N; i++) await push(sg, 'moved', `i${i}`);
  const lastAck = Date.now();

  // Two seconds later a third shard joins by reload; the groups it owns move there.
  await new Promise((r) => setTimeout(r, 2000));
  await sg.writeConfig(config([a, b, c]));
  assert.equal((await fetch(`${sg.url}/-/reload`, { method: 'POST' })).status, 200);
  let movedPushTime = 0;
  await waitFor(
    async () => {
      const onC = (await groupsOn(c.url)).filter((g) => g.labels['job'] === 'moved');
      if (onC.length === 0) return false;
      movedPushTime = Math.min(...onC.map((g) => (pushTimeOf(g) ?? 0) * 1000));
      return true;
    },
    { timeoutMs: 10_000, what: 'groups to move to the new shard' },
  );
  // The move re-stamped push_time_seconds on the new shard...
  assert.ok(movedPushTime >= firstSent + 1500, `push_time after move ${movedPushTime - firstSent} ms after the push`);
  // ...yet the lookup and the sweep still count from the client's push.
  const moved = (await groupsOn(c.url)).find((g) => g.labels['job'] === 'moved');
  const lookup = (await (await fetch(`${sg.url}/metrics/job/moved/instance/${moved?.labels['instance'] ?? ''}`)).json()) as { shard: string; expiry: { expires_at: string } };
  assert.equal(lookup.shard, c.target);
  assert.ok(Date.parse(lookup.expiry.expires_at) <= lastAck + 5000, `expires_at ${lookup.expiry.expires_at} counts from the move`);
  await waitFor(async () => ![...(await where(pgs)).keys()].some((k) => k.startsWith('moved/')), { timeoutMs: 15_000, intervalMs: 100, what: 'moved groups to expire' });
  const goneAt = Date.now();
  assert.ok(goneAt >= firstSent + 5000);
  // Had the move reset their age, they would still be there until movedPushTime + 5 s.
  assert.ok(goneAt < movedPushTime + 5000, `expired ${goneAt - movedPushTime} ms after the move: the move reset the age`);
});
