/**
 * Gateway mode with several replicas (issue 11 item 4): followers forward
 * every push to the leader, whose index is the one that checks the fleet.
 * Two halves of a conflicting pair (one family pushed as a counter by one
 * group and as a gauge by another, the groups on different shards), sent at
 * the same instant through two different replicas, are checked one after
 * the other: exactly one is accepted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd } from '../support/etcd.js';
import { startPushgateways } from '../support/pushgateway.js';
import { startShardgate, type Shardgate } from '../support/shardgate.js';
import { freePort } from '../../src/local/free-port.js';
import { waitFor } from '../support/wait-for.js';

async function role(sg: Shardgate): Promise<string | undefined> {
  const body = (await (await fetch(`${sg.url}/api/v1/status`)).json()) as { data: { replicas?: { role: string; ring_revision: number } } };
  return body.data.replicas?.role;
}

test('gateway mode, two replicas: a conflicting pair pushed at once through both is decided by the leader, one accepted and one refused', { timeout: 120_000 }, async (t) => {
  const etcd = await startEtcd();
  t.after(() => etcd.stop());
  const pgs = await startPushgateways(2, { extraArgs: ['--push.disable-consistency-check'] });
  t.after(() => Promise.all(pgs.map((p) => p.stop())));
  const replicas: Shardgate[] = [];
  for (const id of ['a', 'b']) {
    const port = await freePort();
    const config = [
      `targets: [${pgs.map((p) => `"${p.target}"`).join(', ')}]`,
      'push: { consistency_check: gateway }',
      'health_check: { interval: 200ms, rise: 1 }',
      'upstream: { connect_timeout: 1s, response_timeout: 2s }',
      `replicas: { id: ${id}, advertise_url: "http://127.0.0.1:${port}", lease_ttl: 5s, poll_interval: 250ms, etcd: { endpoints: ["${etcd.endpoint}"] } }`,
    ].join('\n');
    const sg = await startShardgate({ config, port });
    t.after(() => sg.stop());
    replicas.push(sg);
  }
  await waitFor(async () => (await Promise.all(replicas.map(role))).sort().join(',') === 'follower,leader', { timeoutMs: 30_000, what: 'one leader and one follower' });
  // The leader's round has taken over (its index and ring are ready): a harmless push through each replica succeeds.
  await waitFor(async () => (await Promise.all(replicas.map(async (sg, i) => (await fetch(`${sg.url}/metrics/job/warmup/instance/${i}`, { method: 'PUT', body: 'warm 1\n' })).status))).every((s) => s === 200), { timeoutMs: 30_000, what: 'pushes through both replicas' });

  // Two jobs on different shards, as the leader routes them.
  const shardOf = async (job: string): Promise<string> => ((await (await fetch(`${replicas[0]!.url}/metrics/job/${job}`)).json()) as { shard: string }).shard;
  const first = await shardOf('j0');
  let other = 'j1';
  for (let i = 1; (await shardOf(`j${i}`)) === first; i++) other = `j${i + 1}`;
  const [counter, gauge] = await Promise.all([
    fetch(`${replicas[0]!.url}/metrics/job/j0`, { method: 'PUT', body: '# TYPE conflict counter\nconflict 1\n' }),
    fetch(`${replicas[1]!.url}/metrics/job/${other}`, { method: 'PUT', body: '# TYPE conflict gauge\nconflict 1\n' }),
  ]);
  const statuses = [counter.status, gauge.status].sort();
  assert.deepEqual(statuses, [200, 400], `one accepted, one refused: ${await counter.text()} | ${await gauge.text()}`);
  // And the fleet stays consistent: every shard still serves /metrics (an inconsistent store answers 500).
  for (const pg of pgs) assert.equal((await fetch(`${pg.url}/metrics`)).status, 200);
});
