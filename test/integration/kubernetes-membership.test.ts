/**
 * Membership from Kubernetes EndpointSlices, end to end: real pushgateways,
 * a real shardgate, and the API-server fake (test/support/kubernetes-fake.ts).
 * A new ready endpoint joins and groups move to it; a terminating-but-
 * serving endpoint is drained while it still serves; an expired watch
 * relists; an unreachable API server changes nothing.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPushgateways, type TestPushgateway } from '../support/pushgateway.js';
import { startShardgate } from '../support/shardgate.js';
import { endpointSlice, KubernetesFake, type FakeEndpoint } from '../support/kubernetes-fake.js';
import { waitFor } from '../support/wait-for.js';
import { placement, pushGroups, ringMembers, sdGroups, storedOnce } from '../support/membership-e2e.js';

let pgs: TestPushgateway[] = [];
before(async () => {
  pgs = await startPushgateways(3);
});
after(async () => {
  await Promise.all(pgs.map((p) => p.stop()));
});

/** One slice per pushgateway: they share 127.0.0.1 and differ by port, which a slice carries once. */
const slice = (pg: TestPushgateway, name: string, conditions: Omit<FakeEndpoint, 'ip'> = { ready: true, serving: true, terminating: false }) =>
  endpointSlice(name, { endpoints: [{ ip: '127.0.0.1', pod: name, node: 'node-1', zone: 'z1', ...conditions }], ports: [{ name: 'http', port: Number(pg.target.split(':')[1]) }] });

test('membership.kubernetes: a ready endpoint joins, a terminating one is drained, 410 relists, an unreachable API server changes nothing', async (t) => {
  const [a, b, c] = pgs as [TestPushgateway, TestPushgateway, TestPushgateway];
  const fake = new KubernetesFake();
  fake.token = 'sa-token';
  await fake.start();
  t.after(() => fake.close());
  fake.apply(slice(a, 'pushgateway-0'));
  fake.apply(slice(b, 'pushgateway-1'));
  const sg = await startShardgate({
    config: `membership:\n  kubernetes: { api_server: "${fake.url}", bearer_token: sa-token, namespace: monitoring, service: pushgateway, port_name: http }\n  remove_after: 300ms\n` +
      'health_check: { interval: 200ms, timeout: 1s, fall: 2, rise: 1 }\nrebalance: { sweep_interval: 2s }\n',
    waitReady: true,
  });
  t.after(() => sg.stop());
  await waitFor(async () => (await ringMembers(sg.url)).length === 2, { what: 'a and b in the ring' });
  const labels = (await sdGroups(sg.url)).find((g) => g.targets[0] === a.target)?.labels;
  assert.equal(labels?.['__meta_shardgate_kubernetes_pod_name'], 'pushgateway-0');
  assert.equal(labels?.['__meta_shardgate_kubernetes_namespace'], 'monitoring');
  await pushGroups(sg.url, 'k8s_e2e', 30, 1);

  // A new ready endpoint: c joins and takes its share.
  fake.apply(slice(c, 'pushgateway-2'));
  await waitFor(async () => (await ringMembers(sg.url)).length === 3, { what: 'c joins' });
  await waitFor(async () => (await storedOnce(pgs, 'k8s_e2e', 30)) && [...(await placement(pgs, 'k8s_e2e')).values()].some((ts) => ts[0] === c.target), { what: 'groups moved to c' });

  // b's pod is terminating but still serving (its grace period): drained, nothing lost.
  fake.apply(slice(b, 'pushgateway-1', { ready: false, serving: true, terminating: true }));
  await waitFor(async () => (await ringMembers(sg.url)).join() === [a, c].map((p) => p.target).sort().join(), { what: 'b leaves the ring' });
  await waitFor(() => storedOnce(pgs, 'k8s_e2e', 30, [b.target]), { what: 'b drained' });
  fake.delete('pushgateway-1');

  // The watch's resourceVersion expires (compaction) while it is reconnecting: the source relists.
  const listsBefore = fake.requests.filter((r) => !r.query.has('watch')).length;
  fake.endWatches();
  fake.compact();
  await waitFor(() => fake.requests.filter((r) => !r.query.has('watch')).length > listsBefore, { what: 'a relist after 410' });

  // The API server goes away: the ring stays and pushes keep succeeding.
  await fake.close();
  await waitFor(async () => {
    const status = (await (await fetch(`${sg.url}/api/v1/status`)).json()) as { data: { membership: { healthy: boolean } } };
    return status.data.membership.healthy === false;
  }, { what: 'the source reported unhealthy' });
  await pushGroups(sg.url, 'k8s_e2e', 30, 2);
  assert.deepEqual(await ringMembers(sg.url), [a, c].map((p) => p.target).sort());
  assert.ok(await storedOnce(pgs, 'k8s_e2e', 30, [b.target]));
});
