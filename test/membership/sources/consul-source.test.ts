import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConsulSource, type ConsulSourceOptions } from '../../../src/membership/sources/consul-source.js';
import { ConsulFake } from '../../support/consul-fake.js';
import { RecordingSink } from './recording-sink.js';
import { waitFor } from '../../support/wait-for.js';

const FAST = { initialBackoffMs: 20, maxBackoffMs: 200, minIntervalMs: 10, burst: 2 };

type Over = Partial<ConsulSourceOptions> | ((fakeAddress: string) => Partial<ConsulSourceOptions>);

async function setup(t: { after: (fn: () => unknown) => void }, over: Over = {}, prepare: (f: ConsulFake) => void = () => undefined) {
  const fake = new ConsulFake();
  await fake.start();
  prepare(fake);
  const source = new ConsulSource({
    connection: { address: fake.address, token: undefined, basicAuth: undefined, tls: undefined },
    service: 'pushgateway', tags: [], datacenter: undefined, waitMs: 5_000, pacing: FAST,
    ...(typeof over === 'function' ? over(fake.address) : over),
  });
  const sink = new RecordingSink();
  t.after(async () => {
    source.stop();
    await fake.close();
  });
  return { fake, source, sink };
}

test('the first answer lists passing instances, with the service address or else the node address, and their labels', async (t) => {
  const { source, sink } = await setup(t, {}, (f) => {
    f.put({ id: 'a', address: '10.0.0.1', port: 9091, tags: ['blue', 'x-y'], meta: { 'rack.id': 'r1' }, node: 'n1' });
    f.put({ id: 'b', address: '', nodeAddress: '10.0.0.2', port: 9092, node: 'n2' });
    f.put({ id: 'c', address: '10.0.0.3', port: 9091, status: 'critical' });
    f.put({ id: 'other', service: 'web', port: 80 });
  });
  await source.start(sink);
  assert.deepEqual(sink.events.map((e) => e.kind), ['update'], 'start resolves once the first answer is reported');
  assert.deepEqual(sink.lastAddresses(), ['10.0.0.1:9091', '10.0.0.2:9092']);
  const a = sink.updates()[0]?.find((x) => x.address === '10.0.0.1:9091');
  assert.deepEqual(a?.labels, { consul_node: 'n1', consul_dc: 'dc1', consul_service_id: 'a', consul_tags: ',blue,x-y,', consul_service_metadata_rack_id: 'r1' });
  for (const target of sink.updates()[0] ?? []) for (const name of Object.keys(target.labels)) assert.match(name, /^[a-zA-Z_][a-zA-Z0-9_]*$/);
});

test('later requests block on the last X-Consul-Index with wait, and a change is reported when it wakes them', async (t) => {
  const { fake, source, sink } = await setup(t, {}, (f) => f.put({ id: 'a', port: 9091 }));
  await source.start(sink);
  const indexAfterFirst = fake.index;
  await waitFor(() => fake.requests.some((r) => r.query.get('index') === String(indexAfterFirst)), { what: 'a blocking request' });
  const blocking = fake.requests.find((r) => r.query.get('index') === String(indexAfterFirst));
  assert.equal(blocking?.query.get('wait'), '5s');
  assert.ok(blocking?.query.has('passing'));
  assert.equal(fake.requests[0]?.query.has('index'), false, 'the first request does not block');

  fake.put({ id: 'b', port: 9092 });
  await waitFor(() => sink.lastAddresses()?.length === 2, { what: 'the new instance' });
  fake.setStatus('a', 'critical');
  await waitFor(() => sink.lastAddresses()?.join() === '127.0.0.1:9092', { what: 'the failing instance to leave' });
});

test('an index that goes backwards resets the loop to index 0; an index of 0 is raised to 1', async (t) => {
  const { fake, source, sink } = await setup(t, {}, (f) => f.put({ id: 'a', port: 9091 }));
  await source.start(sink);
  await waitFor(() => fake.requests.length >= 2, { what: 'a blocking request' });
  // A snapshot restore: the index drops below what the source holds.
  fake.setIndex(3);
  await waitFor(() => fake.requests.some((r, i) => i >= 2 && !r.query.has('index')), { what: 'a non-blocking request after the reset' });
  await waitFor(() => fake.requests.some((r) => r.query.get('index') === '3'), { what: 'blocking on the new, lower index' });
  // A buggy server answering index 0 must not turn the loop into a busy loop.
  fake.setIndex(0);
  await waitFor(() => fake.requests.some((r) => r.query.get('index') === '1'), { what: 'blocking on index 1' });
  const before = fake.requests.length;
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(fake.requests.length - before <= 2, `blocks on index 1 instead of spinning (${fake.requests.length - before} requests in 200 ms)`);
  assert.equal(sink.failures().length, 0);
});

test('tags, datacenter and the ACL token are sent, and only instances with every tag are listed', async (t) => {
  const { fake, source, sink } = await setup(
    t,
    (address) => ({ tags: ['blue', 'prod'], datacenter: 'dc1', connection: { address: `http://${address}`, token: 's3cret', basicAuth: { username: 'u', password: 'p' }, tls: undefined } }),
    (f) => {
      f.aclToken = 's3cret';
      f.put({ id: 'a', port: 1, tags: ['blue', 'prod'] });
      f.put({ id: 'b', port: 2, tags: ['blue'] });
    },
  );
  await source.start(sink);
  assert.deepEqual(sink.lastAddresses(), ['127.0.0.1:1']);
  const first = fake.requests[0];
  assert.deepEqual(first?.query.getAll('tag'), ['blue', 'prod']);
  assert.equal(first?.query.get('dc'), 'dc1');
  assert.equal(first?.headers['x-consul-token'], 's3cret');
  assert.equal(first?.headers['authorization'], `Basic ${Buffer.from('u:p').toString('base64')}`);
});

test('a wrong token is a failure, not an empty set', async (t) => {
  const { source, sink } = await setup(t, (address) => ({ connection: { address, token: 'wrong', basicAuth: undefined, tls: undefined } }), (f) => {
    f.aclToken = 'right';
    f.put({ id: 'a', port: 1 });
  });
  await source.start(sink);
  assert.equal(sink.updates().length, 0);
  assert.match(sink.failures()[0] ?? '', /HTTP 403 \(ACL not found\)/);
});

test('unreachable: failures are reported, no empty set, and the source recovers when Consul returns', async (t) => {
  const { fake, source, sink } = await setup(t, {}, (f) => f.put({ id: 'a', port: 9091 }));
  await source.start(sink);
  await waitFor(() => fake.requests.length >= 2, { what: 'a blocking request' });
  await fake.close();
  await waitFor(() => sink.failures().length >= 2, { what: 'failures while Consul is away' });
  assert.ok(sink.updates().every((u) => u.length === 1), 'never an empty set because of a failure');
  await fake.restart();
  fake.put({ id: 'b', port: 9092 });
  await waitFor(() => sink.lastAddresses()?.length === 2, { what: 'the answer after Consul returned' });
});

test('server errors are retried with growing backoff', async (t) => {
  const { fake, source, sink } = await setup(t, {}, (f) => {
    f.put({ id: 'a', port: 9091 });
    f.failWith = 500;
  });
  await source.start(sink);
  assert.match(sink.failures()[0] ?? '', /HTTP 500/);
  await waitFor(() => fake.requests.length >= 5, { what: 'five attempts' });
  const times: number[] = [];
  const start = Date.now();
  const seen = fake.requests.length;
  await waitFor(() => fake.requests.length >= seen + 2, { what: 'two more attempts' });
  times.push(Date.now() - start);
  // backoff 20, 40, 80, 160, 200 ms (±20 %): attempts 6 and 7 come after ≥ 128 + 160 ms.
  assert.ok(times[0]! >= 150, `retries slow down (${times[0]} ms for two more attempts)`);
  fake.failWith = undefined;
  await waitFor(() => sink.events.at(-1)?.kind === 'update', { what: 'recovery' });
  assert.ok(sink.updates().every((u) => u.length === 1));
});

test('after stop() the sink is never called again', async (t) => {
  const { fake, source, sink } = await setup(t, {}, (f) => f.put({ id: 'a', port: 9091 }));
  await source.start(sink);
  await waitFor(() => fake.requests.length >= 2, { what: 'a blocking request' });
  source.stop();
  const n = sink.events.length;
  fake.put({ id: 'b', port: 9092 });
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(sink.events.length, n);
});
