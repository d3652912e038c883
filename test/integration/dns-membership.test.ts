/**
 * Membership from DNS SRV records, end to end with real pushgateways and a
 * real dnsmasq on loopback: a record added → the pushgateway joins and
 * groups move to it; a record removed while the pushgateway is live → it is
 * drained with nothing lost, then dropped; dnsmasq killed → the ring stays
 * as it was and pushes keep succeeding.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPushgateways, type TestPushgateway } from '../support/pushgateway.js';
import { startShardgate } from '../support/shardgate.js';
import { groupsOn } from '../support/pushgateway-api.js';
import { startDnsmasq, type DnsRecords } from '../support/dnsmasq.js';
import { waitFor } from '../support/wait-for.js';
import { pushValue, ringMembers, settledOn, shards } from '../support/sourced-fleet.js';

const live: Array<{ stop(): Promise<void> }> = [];
after(async () => {
  for (const x of live.reverse()) await x.stop();
});

const SRV = '_pushgateway._tcp.shardgate.test';

/** SRV records naming `pgs`, each target host resolving to loopback. */
function records(pgs: readonly TestPushgateway[]): DnsRecords {
  return {
    srv: pgs.map((p, i) => ({ name: SRV, target: `pg-${i}.shardgate.test`, port: Number(p.target.split(':')[1]) })),
    hostRecords: pgs.map((_, i) => [`pg-${i}.shardgate.test`, '127.0.0.1'] as const),
  };
}

test('dns: SRV records added and removed move the ring; a dead DNS server leaves it as it was', async () => {
  const pgs = await startPushgateways(3);
  live.push(...pgs);
  const [a, b, c] = pgs as [TestPushgateway, TestPushgateway, TestPushgateway];
  const dns = await startDnsmasq(records([a, b]));
  live.push(dns);
  const sg = await startShardgate({
    config: `membership:\n  dns: { names: ["${SRV}"], type: SRV, resolver: "${dns.address}", refresh_interval: 300ms }\n  remove_after: 300ms\nhealth_check: { interval: 200ms, timeout: 1s }\nrebalance: { sweep_interval: 1s }\n`,
    waitReady: true,
  });
  live.push(sg);
  await waitFor(async () => (await ringMembers(sg)).length === 2, { what: 'a and b in the ring' });
  const N = 60;
  for (let i = 0; i < N; i++) await pushValue(sg, 'dns', i, 1);

  // A record added: c joins and receives its groups.
  await dns.restart(records([a, b, c]));
  await waitFor(async () => (await ringMembers(sg)).includes(c.target), { what: 'c to join the ring' });
  await waitFor(() => settledOn(sg, pgs, 'dns', N, '1'), { timeoutMs: 20_000, what: 'groups to move to c' });
  assert.ok((await groupsOn(c.url)).length > 0);
  const sd = (await (await fetch(`${sg.url}/api/v1/sd`)).json()) as Array<{ targets: string[]; labels: Record<string, string> }>;
  assert.equal(sd.find((g) => g.targets[0] === c.target)?.labels['__meta_shardgate_dns_name'], SRV);

  // b's record removed while b is live: drained, then dropped; nothing lost.
  assert.ok((await groupsOn(b.url)).length > 0);
  await dns.restart(records([a, c]));
  await waitFor(async () => !(await shards(sg)).data.some((s) => s.target === b.target), { timeoutMs: 20_000, what: 'b to be drained and dropped' });
  assert.equal((await groupsOn(b.url)).length, 0);
  assert.ok(await settledOn(sg, pgs, 'dns', N, '1'), 'nothing lost');

  // dnsmasq dies: the source fails, the ring stays, pushes keep succeeding.
  const before = await ringMembers(sg);
  await dns.kill();
  await waitFor(async () => !(await shards(sg)).membership.healthy, { what: 'the source to report the dead server' });
  assert.match((await shards(sg)).membership.last_error ?? '', /DNS/);
  for (let i = 0; i < N; i++) await pushValue(sg, 'dns', i, 2);
  await new Promise((r) => setTimeout(r, 1000)); // past remove_after and several refreshes: nothing may leave
  assert.deepEqual(await ringMembers(sg), before);
  assert.ok(await settledOn(sg, pgs, 'dns', N, '2'));
  const status = (await (await fetch(`${sg.url}/api/v1/status`)).json()) as { data: { membership: { kind: string; healthy: boolean; targets: number } } };
  assert.deepEqual([status.data.membership.kind, status.data.membership.healthy, status.data.membership.targets], ['dns', false, 2]);
});
