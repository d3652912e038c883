/**
 * Membership from Consul, end to end: real pushgateways, a real shardgate,
 * and the Consul fake (test/support/consul-fake.ts) answering its blocking
 * health queries. The source adds a pushgateway → it joins and groups move
 * to it; the source drops a live one → it is drained, nothing lost; Consul
 * unreachable → the ring stays and pushes keep succeeding.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPushgateways, type TestPushgateway } from '../support/pushgateway.js';
import { startShardgate } from '../support/shardgate.js';
import { ConsulFake } from '../support/consul-fake.js';
import { waitFor } from '../support/wait-for.js';
import { placement, pushGroups, ringMembers, sdGroups, storedOnce } from '../support/membership-e2e.js';

let pgs: TestPushgateway[] = [];
before(async () => {
  pgs = await startPushgateways(3);
});
after(async () => {
  await Promise.all(pgs.map((p) => p.stop()));
});

const FAST = 'health_check: { interval: 200ms, timeout: 1s, fall: 2, rise: 1 }\nrebalance: { sweep_interval: 2s }\n';
const id = (pg: TestPushgateway): string => pg.target.replace(':', '_');
const port = (pg: TestPushgateway): number => Number(pg.target.split(':')[1]);

test('membership.consul: joins move groups, a dropped live shard is drained, an unreachable Consul changes nothing', async (t) => {
  const [a, b, c] = pgs as [TestPushgateway, TestPushgateway, TestPushgateway];
  const fake = new ConsulFake();
  await fake.start();
  t.after(() => fake.close());
  for (const pg of [a, b]) fake.put({ id: id(pg), address: '127.0.0.1', port: port(pg), tags: ['pgw'], meta: { rack: 'r1' } });
  const sg = await startShardgate({
    config: `membership:\n  consul: { server: "${fake.address}", service: pushgateway, tags: [pgw], wait: 2s }\n  remove_after: 300ms\n${FAST}`,
    waitReady: true,
  });
  t.after(() => sg.stop());
  await waitFor(async () => (await ringMembers(sg.url)).join() === [a, b].map((p) => p.target).sort().join(), { what: 'a and b in the ring' });
  const labels = (await sdGroups(sg.url)).find((g) => g.targets[0] === a.target)?.labels;
  assert.equal(labels?.['__meta_shardgate_consul_tags'], ',pgw,');
  assert.equal(labels?.['__meta_shardgate_consul_service_metadata_rack'], 'r1');
  await pushGroups(sg.url, 'consul_e2e', 30, 1);

  // Consul lists c: it joins and takes its share of the groups.
  fake.put({ id: id(c), address: '127.0.0.1', port: port(c), tags: ['pgw'] });
  await waitFor(async () => (await ringMembers(sg.url)).length === 3, { what: 'c joins' });
  await waitFor(async () => (await storedOnce(pgs, 'consul_e2e', 30)) && [...(await placement(pgs, 'consul_e2e')).values()].some((ts) => ts[0] === c.target), { what: 'groups moved to c' });

  // Consul stops listing b (its check fails there) while b is alive: drained, nothing lost.
  fake.setStatus(id(b), 'critical');
  await waitFor(async () => (await ringMembers(sg.url)).join() === [a, c].map((p) => p.target).sort().join(), { what: 'b leaves the ring' });
  await waitFor(() => storedOnce(pgs, 'consul_e2e', 30, [b.target]), { what: 'b drained, every group stored once elsewhere' });

  // Consul unreachable: the ring stays, pushes succeed, the source shows the error.
  await fake.close();
  await waitFor(async () => {
    const status = (await (await fetch(`${sg.url}/api/v1/status`)).json()) as { data: { membership: { healthy: boolean } } };
    return status.data.membership.healthy === false;
  }, { what: 'the source reported unhealthy' });
  await pushGroups(sg.url, 'consul_e2e', 30, 2);
  assert.deepEqual(await ringMembers(sg.url), [a, c].map((p) => p.target).sort());
  assert.ok(await storedOnce(pgs, 'consul_e2e', 30, [b.target]));
});

test('consul_server (dynamic-sharding.yml): the pushgateways are registered with checks, membership follows Consul\'s answers, a reload deregisters a removed one', async (t) => {
  const [a, b] = pgs as [TestPushgateway, TestPushgateway];
  const fake = new ConsulFake();
  await fake.start();
  fake.probeChecks = true;
  t.after(() => fake.close());
  const legacy = (servers: readonly TestPushgateway[]): string =>
    `consul_server:\n  addr: ${fake.address}\n  username:\n  password:\n  register_service_name: pushgateway\npushgateway:\n  port: ${port(a)}\n  servers:\n${servers.map((p) => `    - ${p.target}\n`).join('')}membership: { remove_after: 300ms }\n${FAST}`;
  const sg = await startShardgate({ config: legacy([a, b]), args: ['--web.enable-lifecycle'], waitReady: true });
  t.after(() => sg.stop());
  // Registered with an HTTP check on /-/healthy, which the fake probes: both pass, both join.
  assert.deepEqual(fake.instances.get(id(a))?.check?.http, `http://${a.target}/-/healthy`);
  await waitFor(async () => (await ringMembers(sg.url)).length === 2, { what: 'both registered pushgateways in the ring' });
  await pushGroups(sg.url, 'legacy_e2e', 20, 1);

  // Consul says b is critical (its check as Consul sees it): b leaves, drained.
  fake.probeChecks = false;
  fake.setStatus(id(b), 'critical');
  await waitFor(async () => (await ringMembers(sg.url)).join() === a.target, { what: 'b leaves' });
  await waitFor(() => storedOnce(pgs, 'legacy_e2e', 20, [b.target]), { what: 'b drained' });
  fake.setStatus(id(b), 'passing');
  await waitFor(async () => (await ringMembers(sg.url)).length === 2, { what: 'b back' });

  // A reload without b deregisters it from Consul (and it then leaves the ring, drained).
  await sg.writeConfig(legacy([a]));
  assert.equal((await fetch(`${sg.url}/-/reload`, { method: 'POST' })).status, 200);
  assert.deepEqual([...fake.instances.keys()], [id(a)]);
  await waitFor(async () => (await ringMembers(sg.url)).join() === a.target, { what: 'b leaves after the reload' });
  await waitFor(() => storedOnce(pgs, 'legacy_e2e', 20, [b.target]), { what: 'nothing lost' });
});

test('consul_server with Consul down at start-up: the configured pushgateways seed the ring (as dynamic-sharding built its first ring from its servers)', async (t) => {
  const [a, b] = pgs as [TestPushgateway, TestPushgateway];
  const fake = new ConsulFake();
  await fake.start();
  const address = fake.address;
  await fake.close();
  const sg = await startShardgate({
    config: `consul_server: { addr: "${address}", register_service_name: pushgateway }\ntargets: ["${a.target}", "${b.target}"]\n${FAST}`,
    waitReady: true,
  });
  t.after(() => sg.stop());
  await waitFor(async () => (await ringMembers(sg.url)).length === 2, { what: 'both configured pushgateways in the ring' });
  await pushGroups(sg.url, 'seeded_e2e', 5, 1);
  assert.match(sg.logs(), /consul registration failed/);
});

/**
 * Debian's prometheus (2.42) is built without consul_sd (its config loader
 * rejects `consul_sd_configs`), so this test makes the two calls Prometheus'
 * consul_sd makes (discovery/consul/consul.go: Agent().Self() for the
 * datacenter, then Health().ServiceMultipleTags(name, tags, passingOnly=false)
 * as a blocking query) and maps the answer as it does: address =
 * Service.Address or Node.Address, with Service.Port.
 */
test('what dynamic-sharding\'s consul_sd_configs job reads: every registered pushgateway at its address, with its check status', async (t) => {
  const [a, b] = pgs as [TestPushgateway, TestPushgateway];
  const fake = new ConsulFake();
  await fake.start();
  fake.probeChecks = true;
  t.after(() => fake.close());
  const sg = await startShardgate({
    config: `consul_server:\n  addr: ${fake.address}\n  register_service_name: pushgateway\npushgateway:\n  port: ${port(a)}\n  servers:\n    - ${a.target}\n    - ${b.target}\n${FAST}`,
    waitReady: true,
  });
  t.after(() => sg.stop());
  await waitFor(async () => (await ringMembers(sg.url)).length === 2, { what: 'both pushgateways in the ring' });
  await waitFor(() => [...fake.instances.values()].filter((i) => i.status === 'passing').length === 2, { what: 'both checks passing' });
  const self = (await (await fetch(`http://${fake.address}/v1/agent/self`)).json()) as { Config: { Datacenter: string } };
  assert.equal(self.Config.Datacenter, 'dc1');
  const res = await fetch(`http://${fake.address}/v1/health/service/pushgateway`);
  assert.ok(Number(res.headers.get('x-consul-index')) > 0);
  const entries = (await res.json()) as Array<{ Node: { Address: string }; Service: { Address: string; Port: number }; Checks: Array<{ Status: string }> }>;
  const addresses = entries.map((e) => `${e.Service.Address || e.Node.Address}:${e.Service.Port}`).sort();
  assert.deepEqual(addresses, [a.target, b.target].sort());
  assert.ok(entries.every((e) => e.Checks.every((c) => c.Status === 'passing')), '__meta_consul_health would be passing');
});
