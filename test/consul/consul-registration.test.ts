import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { ConsulRegistration, registrationSettings, serviceId, type RegistrationSettings } from '../../src/consul/consul-registration.js';
import { parseConfig } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { ConsulFake } from '../support/consul-fake.js';
import { waitFor } from '../support/wait-for.js';

function settings(fake: ConsulFake, over: Partial<RegistrationSettings> = {}): RegistrationSettings {
  return {
    connection: { address: fake.address, token: undefined, basicAuth: { username: 'consul-user', password: 'pw' }, tls: undefined },
    serviceName: 'pushgateway',
    check: { intervalMs: 5000, timeoutMs: 2000, scheme: 'http', tlsSkipVerify: false, authorization: undefined },
    resyncIntervalMs: 60_000,
    ...over,
  };
}

async function withFake(t: { after: (fn: () => unknown) => void }): Promise<ConsulFake> {
  const fake = new ConsulFake();
  await fake.start();
  t.after(() => fake.close());
  return fake;
}

test('service IDs are the original dynamic-sharding\'s <host>_<port>', () => {
  assert.equal(serviceId('1.1.1.1:9091'), '1.1.1.1_9091');
  assert.equal(serviceId('[::1]:9091'), '::1_9091');
  assert.equal(serviceId('pg-0.pg.svc:9091'), 'pg-0.pg.svc_9091');
});

test('each target is registered with an HTTP check on /-/healthy, with basic auth to Consul', async (t) => {
  const fake = await withFake(t);
  const reg = new ConsulRegistration(settings(fake, { check: { intervalMs: 5000, timeoutMs: 2000, scheme: 'http', tlsSkipVerify: false, authorization: 'Basic cGc6cHc=' } }), silentLogger());
  t.after(() => reg.stop());
  await reg.setTargets(['10.0.0.1:9091', '10.0.0.2:9091']);
  assert.deepEqual([...fake.instances.keys()].sort(), ['10.0.0.1_9091', '10.0.0.2_9091']);
  const a = fake.instances.get('10.0.0.1_9091');
  assert.equal(a?.service, 'pushgateway');
  assert.equal(a?.address, '10.0.0.1');
  assert.equal(a?.port, 9091);
  assert.deepEqual(a?.meta, { managed_by: 'shardgate' });
  assert.deepEqual(a?.check, { http: 'http://10.0.0.1:9091/-/healthy', intervalMs: 5000, timeoutMs: 2000, header: { Authorization: ['Basic cGc6cHc='] }, deregisterCriticalServiceAfter: undefined });
  const put = fake.requests.find((r) => r.method === 'PUT');
  assert.equal(put?.query.get('replace-existing-checks'), 'true');
  assert.equal(put?.headers['authorization'], `Basic ${Buffer.from('consul-user:pw').toString('base64')}`);
});

test('a target removed from the config is deregistered; instances not registered by shardgate are left alone', async (t) => {
  const fake = await withFake(t);
  fake.put({ id: 'hand-made', port: 1234 });
  const reg = new ConsulRegistration(settings(fake), silentLogger());
  t.after(() => reg.stop());
  await reg.setTargets(['10.0.0.1:9091', '10.0.0.2:9091']);
  await reg.setTargets(['10.0.0.2:9091']);
  assert.deepEqual([...fake.instances.keys()].sort(), ['10.0.0.2_9091', 'hand-made']);
  assert.ok(fake.requests.some((r) => r.method === 'PUT' && r.path === '/v1/agent/service/deregister/10.0.0.1_9091'));
});

test('after a restart with a shorter config, the instances it registered before are deregistered; nothing on stop', async (t) => {
  const fake = await withFake(t);
  const first = new ConsulRegistration(settings(fake), silentLogger());
  await first.setTargets(['10.0.0.1:9091', '10.0.0.2:9091']);
  await first.stop();
  assert.equal(fake.instances.size, 2, 'stop leaves the registrations (as the original did)');
  const second = new ConsulRegistration(settings(fake), silentLogger());
  t.after(() => second.stop());
  await second.setTargets(['10.0.0.2:9091']);
  assert.deepEqual([...fake.instances.keys()], ['10.0.0.2_9091']);
});

test('a registration dynamic-sharding made is adopted (same ID, shardgate\'s check), not duplicated', async (t) => {
  const fake = await withFake(t);
  fake.put({ id: '10.0.0.1_9091', address: '10.0.0.1', port: 9091 });
  const reg = new ConsulRegistration(settings(fake), silentLogger());
  t.after(() => reg.stop());
  await reg.setTargets(['10.0.0.1:9091']);
  assert.equal(fake.instances.size, 1);
  assert.deepEqual(fake.instances.get('10.0.0.1_9091')?.meta, { managed_by: 'shardgate' });
});

test('what the agent loses is registered again on the next resync; a Consul outage is retried, not thrown', async (t) => {
  const fake = await withFake(t);
  const reg = new ConsulRegistration(settings(fake, { resyncIntervalMs: 50 }), silentLogger());
  t.after(() => reg.stop());
  fake.failWith = 500;
  await reg.setTargets(['10.0.0.1:9091']);
  assert.equal(fake.instances.size, 0);
  fake.failWith = undefined;
  await waitFor(() => fake.instances.size === 1, { what: 'registration after the outage' });
  fake.remove('10.0.0.1_9091');
  await waitFor(() => fake.instances.size === 1, { what: 're-registration after the agent lost it' });
});

test('the check follows the pushgateway\'s real /-/healthy (the fake probes it)', async (t) => {
  let healthy = true;
  const pg: Server = createServer((req, res) => {
    res.writeHead(req.url === '/-/healthy' && healthy ? 200 : 503);
    res.end();
  });
  await new Promise<void>((r) => pg.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => pg.close(() => r())));
  const target = `127.0.0.1:${(pg.address() as AddressInfo).port}`;
  const fake = await withFake(t);
  fake.probeChecks = true;
  const reg = new ConsulRegistration(settings(fake, { check: { intervalMs: 100, timeoutMs: 500, scheme: 'http', tlsSkipVerify: false, authorization: undefined } }), silentLogger());
  t.after(() => reg.stop());
  await reg.setTargets([target]);
  const id = serviceId(target);
  await waitFor(() => fake.instances.get(id)?.status === 'passing', { what: 'passing' });
  healthy = false;
  await waitFor(() => fake.instances.get(id)?.status === 'critical', { what: 'critical' });
});

test('the registered check probes as shardgate does: health_check interval and timeout, upstream scheme, TLS skip and basic auth', () => {
  const cfg = parseConfig('consul_server: { addr: "c:8500", register_service_name: pgw }\ntargets: ["a:9091"]\nhealth_check: { interval: 3s, timeout: 1s }\nupstream: { scheme: https, tls_config: { insecure_skip_verify: true }, basic_auth: { username: u, password: p } }\n');
  const s = registrationSettings(cfg);
  assert.equal(s?.serviceName, 'pgw');
  assert.deepEqual(s?.check, { intervalMs: 3000, timeoutMs: 1000, scheme: 'https', tlsSkipVerify: true, authorization: `Basic ${Buffer.from('u:p').toString('base64')}` });
  assert.equal(registrationSettings(parseConfig('targets: ["a:9091"]\n')), undefined);
});
