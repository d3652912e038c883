import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubernetesSource, type KubernetesSourceOptions } from '../../../src/membership/sources/kubernetes-source.js';
import { inClusterSettings, kubeconfigSettings } from '../../../src/membership/sources/kubernetes-api.js';
import { endpointSlice, KubernetesFake } from '../../support/kubernetes-fake.js';
import { RecordingSink } from './recording-sink.js';
import { waitFor } from '../../support/wait-for.js';

const FAST = { initialBackoffMs: 20, maxBackoffMs: 200, minIntervalMs: 10, burst: 2 };

async function setup(t: { after: (fn: () => unknown) => void }, prepare: (f: KubernetesFake) => void, over: Partial<KubernetesSourceOptions> = {}) {
  const fake = new KubernetesFake();
  fake.token = 'sa-token';
  await fake.start();
  prepare(fake);
  const source = new KubernetesSource({
    api: { server: fake.url, token: { value: 'sa-token' }, ca: undefined, cert: undefined, key: undefined, insecureSkipVerify: false, defaultNamespace: undefined },
    namespace: 'monitoring', service: 'pushgateway', portName: undefined, pacing: FAST, ...over,
  });
  const sink = new RecordingSink();
  t.after(async () => {
    source.stop();
    await fake.close();
  });
  return { fake, source, sink };
}

const watches = (f: KubernetesFake) => f.requests.filter((r) => r.query.get('watch') === 'true');
const lists = (f: KubernetesFake) => f.requests.filter((r) => !r.query.has('watch'));

test('ready endpoints (true or unset) are targets, terminating-but-serving ones are marked terminating, the rest are left out', async (t) => {
  const { source, sink } = await setup(t, (f) => {
    f.apply(endpointSlice('pg-a', { endpoints: [
      { ip: '10.0.0.1', ready: true, serving: true, terminating: false, pod: 'pushgateway-0', node: 'node-a', zone: 'z1' },
      { ip: '10.0.0.2' },
      { ip: '10.0.0.3', ready: false, serving: true, terminating: true, pod: 'pushgateway-2' },
      { ip: '10.0.0.4', ready: false, serving: false, terminating: true },
      { ip: '10.0.0.5', ready: false },
    ] }));
    f.apply(endpointSlice('other', { service: 'web', endpoints: [{ ip: '10.9.9.9' }] }));
  });
  await source.start(sink);
  const first = sink.updates()[0] ?? [];
  assert.deepEqual(first.map((x) => [x.address, x.terminating ?? false]), [['10.0.0.1:9091', false], ['10.0.0.2:9091', false], ['10.0.0.3:9091', true]]);
  assert.deepEqual(first[0]?.labels, { kubernetes_namespace: 'monitoring', kubernetes_pod_name: 'pushgateway-0', kubernetes_node_name: 'node-a', kubernetes_zone: 'z1' });
});

test('the list and watch carry the bearer token, the label selector, the list resourceVersion and allowWatchBookmarks; watch events are reported', async (t) => {
  const { fake, source, sink } = await setup(t, (f) => f.apply(endpointSlice('pg-a', { endpoints: [{ ip: '10.0.0.1' }] })));
  await source.start(sink);
  const listedAt = fake.resourceVersion;
  await waitFor(() => fake.openWatches === 1, { what: 'a watch' });
  const list = lists(fake)[0];
  assert.equal(list?.authorization, 'Bearer sa-token');
  assert.equal(list?.query.get('labelSelector'), 'kubernetes.io/service-name=pushgateway');
  const watch = watches(fake)[0];
  assert.equal(watch?.query.get('resourceVersion'), listedAt);
  assert.equal(watch?.query.get('allowWatchBookmarks'), 'true');
  assert.equal(watch?.authorization, 'Bearer sa-token');

  fake.apply(endpointSlice('pg-b', { endpoints: [{ ip: '10.0.0.2' }] }));
  await waitFor(() => sink.lastAddresses()?.join() === '10.0.0.1:9091,10.0.0.2:9091', { what: 'ADDED' });
  fake.apply(endpointSlice('pg-a', { endpoints: [{ ip: '10.0.0.1', ready: false, serving: true, terminating: true }] }));
  await waitFor(() => sink.updates().at(-1)?.find((x) => x.address === '10.0.0.1:9091')?.terminating === true, { what: 'MODIFIED to terminating' });
  fake.delete('pg-a');
  await waitFor(() => sink.lastAddresses()?.join() === '10.0.0.2:9091', { what: 'DELETED' });
  assert.equal(lists(fake).length, 1, 'no relist while the watch works');
});

test('a bookmark advances the resourceVersion the next watch starts from', async (t) => {
  const { fake, source, sink } = await setup(t, (f) => f.apply(endpointSlice('pg-a', { endpoints: [{ ip: '10.0.0.1' }] })));
  await source.start(sink);
  await waitFor(() => fake.openWatches === 1, { what: 'a watch' });
  fake.bookmark();
  const bookmarked = fake.resourceVersion;
  // The bookmark is written before the end of the same stream, so the source reads it first.
  fake.endWatches();
  await waitFor(() => watches(fake).some((w) => w.query.get('resourceVersion') === bookmarked), { what: 'a watch from the bookmark' });
  assert.equal(lists(fake).length, 1, 'a watch that ends is re-opened, not relisted');
  assert.equal(sink.updates().length, 1, 'a bookmark changes nothing');
});

for (const goneAs of ['event', 'status'] as const) {
  test(`410 Gone as ${goneAs === 'event' ? 'an ERROR watch event' : 'the watch HTTP status'} relists`, async (t) => {
    const { fake, source, sink } = await setup(t, (f) => {
      f.goneAs = goneAs;
      f.apply(endpointSlice('pg-a', { endpoints: [{ ip: '10.0.0.1' }] }));
    });
    await source.start(sink);
    await waitFor(() => fake.openWatches === 1, { what: 'a watch' });
    // While the source is disconnected the history is compacted and a slice changes.
    fake.endWatches();
    fake.compact();
    fake.apply(endpointSlice('pg-b', { endpoints: [{ ip: '10.0.0.2' }] }));
    await waitFor(() => lists(fake).length === 2, { what: 'a relist' });
    await waitFor(() => sink.lastAddresses()?.join() === '10.0.0.1:9091,10.0.0.2:9091', { what: 'the relisted set' });
    assert.equal(sink.failures().length, 0, '410 is routine, not a failure');
  });
}

test('a wrong token, a server error or an unreachable API server is a failure; the last set stays and the source recovers', async (t) => {
  const { fake, source, sink } = await setup(t, (f) => f.apply(endpointSlice('pg-a', { endpoints: [{ ip: '10.0.0.1' }] })));
  await source.start(sink);
  await waitFor(() => fake.openWatches === 1, { what: 'a watch' });
  fake.token = 'rotated';
  fake.endWatches();
  await waitFor(() => sink.failures().some((f) => /HTTP 401 \(Unauthorized\)/.test(f)), { what: '401' });
  fake.token = 'sa-token';
  fake.failWith = 500;
  await waitFor(() => sink.failures().some((f) => /HTTP 500/.test(f)), { what: '500' });
  fake.failWith = undefined;
  await waitFor(() => fake.openWatches === 1, { what: 'the watch again' });
  await fake.close();
  await waitFor(() => sink.failures().some((f) => /ECONNREFUSED|connect/i.test(f)), { what: 'unreachable' });
  assert.ok(sink.updates().every((u) => u.length === 1), 'never an empty set because of a failure');
  await fake.restart();
  fake.apply(endpointSlice('pg-b', { endpoints: [{ ip: '10.0.0.2' }] }));
  await waitFor(() => sink.lastAddresses()?.length === 2, { what: 'recovery' });
});

test('the port is chosen by name, or is the only one; an ambiguous slice is a failure', async (t) => {
  const { source, sink } = await setup(t, (f) => f.apply(endpointSlice('pg-a', { endpoints: [{ ip: '10.0.0.1' }], ports: [{ name: 'http', port: 9091 }, { name: 'admin', port: 9999 }] })), { portName: 'admin' });
  await source.start(sink);
  assert.deepEqual(sink.lastAddresses(), ['10.0.0.1:9999']);
  const { source: ambiguous, sink: sink2 } = await setup(t, (f) => f.apply(endpointSlice('pg-a', { endpoints: [{ ip: '10.0.0.1' }], ports: [{ name: 'http', port: 9091 }, { name: 'admin', port: 9999 }] })));
  await ambiguous.start(sink2);
  assert.equal(sink2.updates().length, 0);
  assert.match(sink2.failures()[0] ?? '', /has 2 ports \(http, admin\): set port_name/);
});

test('in-cluster settings come from KUBERNETES_SERVICE_HOST/PORT and the service account; a kubeconfig from its current context', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sa-'));
  writeFileSync(join(dir, 'token'), 'tok\n');
  writeFileSync(join(dir, 'ca.crt'), 'CA PEM');
  writeFileSync(join(dir, 'namespace'), 'monitoring');
  const inCluster = inClusterSettings({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, dir);
  assert.equal(inCluster.server, 'https://[fd00::1]:443');
  assert.deepEqual(inCluster.token, { file: join(dir, 'token') });
  assert.equal(inCluster.ca, 'CA PEM');
  assert.equal(inCluster.defaultNamespace, 'monitoring');
  assert.throws(() => inClusterSettings({}, dir), /not running in a cluster/);

  const kubeconfig = join(dir, 'config');
  writeFileSync(kubeconfig, [
    'apiVersion: v1', 'kind: Config', 'current-context: prod',
    'clusters:', '- name: c1', '  cluster: {server: "https://k8s.example:6443", certificate-authority-data: ' + Buffer.from('CA2').toString('base64') + '}',
    'users:', '- name: u1', '  user: {token: abc}',
    'contexts:', '- name: prod', '  context: {cluster: c1, user: u1, namespace: pg}',
  ].join('\n'));
  const k = kubeconfigSettings(kubeconfig);
  assert.deepEqual([k.server, k.ca, k.token, k.defaultNamespace], ['https://k8s.example:6443', 'CA2', { value: 'abc' }, 'pg']);
});
