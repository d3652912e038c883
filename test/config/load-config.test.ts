import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, ConfigError } from '../../src/config/load-config.js';
import { parseDuration } from '../../src/config/duration.js';

test("the original dynamic-sharding.yml loads unchanged", () => {
  const cfg = parseConfig(`consul_server:
  # consul api 地址
  addr: localhost:8500
  username:
  password:
  register_service_name: pushgateway
http_listen_addr: :9292
pushgateway:
  port: 9091
  servers:
    - 1.1.1.1
    - 1.1.1.2
`);
  assert.deepEqual(cfg.targets, ['1.1.1.1:9091', '1.1.1.2:9091']);
  assert.equal(cfg.listenAddress, ':9292');
  // consul_server does what it says: the targets are registered, and membership follows Consul's answers for that service.
  assert.deepEqual(cfg.consulServer, { connection: { address: 'localhost:8500', token: undefined, basicAuth: undefined, tls: undefined }, serviceName: 'pushgateway' });
  assert.equal(cfg.membership.source.kind, 'consul');
  assert.ok(cfg.membership.source.kind === 'consul' && cfg.membership.source.service === 'pushgateway' && cfg.membership.source.connection.address === 'localhost:8500');
  assert.ok(cfg.notices.some((n) => n.includes('registered in Consul as service "pushgateway", and membership follows its passing instances')));
});

test('shardgate keys with defaults filled in, frozen', () => {
  const cfg = parseConfig(`targets: [a:9091, "b:9092"]
mode: redirect
health_check: { interval: 1s, timeout: 300ms, fall: 3 }
upstream: { response_timeout: 1m }
`);
  assert.deepEqual(cfg.targets, ['a:9091', 'b:9092']);
  assert.equal(cfg.mode, 'redirect');
  assert.deepEqual(cfg.healthCheck, { intervalMs: 1000, timeoutMs: 300, fall: 3, rise: 2 });
  assert.equal(cfg.upstream.responseTimeoutMs, 60_000);
  assert.ok(Object.isFrozen(cfg) && Object.isFrozen(cfg.targets));
});

function fails(yaml: string, ...fragments: string[]): void {
  assert.throws(() => parseConfig(yaml), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    for (const f of fragments) assert.ok(err.message.includes(f), `"${err.message}" should mention ${f}`);
    return true;
  });
}

test('unknown keys and bad values are errors that name the key', () => {
  fails('targets: [a:1]\ntargetz: [b:2]', 'targetz: unknown key');
  fails('health_check: { intervl: 5s }', 'health_check.intervl: unknown key');
  fails('health_check: { interval: fast }', 'health_check.interval', 'invalid duration');
  fails('mode: roundrobin', 'mode');
  fails('targets: [nohost]', 'targets.0', 'host:port');
  fails('pushgateway: { port: 70000, servers: [a] }', 'pushgateway.port');
  fails('targets: [a:1, a:1]', 'duplicate target');
  fails('targets: [a:1\n', 'invalid YAML');
});

test('durations in Prometheus style', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('2h'), 7_200_000);
  assert.equal(parseDuration('5'), undefined);
  assert.equal(parseDuration('1.5s'), undefined);
});

test('limits: Prometheus-style defaults, sizes in bytes or base-2 units, unknown keys rejected', () => {
  assert.deepEqual(parseConfig('').limits, { maxBodyBytes: 16 * 1024 * 1024, maxConnections: 512, maxConnectionsPerIp: 0 });
  const cfg = parseConfig('limits: { max_body_size: 512KiB, max_connections: 100, max_connections_per_ip: 10 }');
  assert.deepEqual(cfg.limits, { maxBodyBytes: 512 * 1024, maxConnections: 100, maxConnectionsPerIp: 10 });
  assert.equal(parseConfig('limits: { max_body_size: 1MB }').limits.maxBodyBytes, 1024 * 1024);
  assert.equal(parseConfig('limits: { max_body_size: 1000 }').limits.maxBodyBytes, 1000);
  fails('limits: { max_body_size: 1.5MB }', 'limits.max_body_size', 'invalid size');
  fails('limits: { max_body_size: 0 }', 'limits.max_body_size');
  fails('limits: { max_connections: 0 }', 'limits.max_connections');
  fails('limits: { max_connections_per_ip: -1 }', 'limits.max_connections_per_ip');
  fails('limits: { max_body: 1 }', 'limits.max_body: unknown key');
});

test('upstream TLS and basic auth: files read relative to the config file, the Authorization header built once', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'shardgate-cfg-'));
  try {
    await writeFile(join(dir, 'password'), 's3cret\n');
    const cfg = parseConfig('upstream:\n  scheme: https\n  tls_config: { server_name: pg.internal, insecure_skip_verify: true }\n  basic_auth: { username: pusher, password_file: password }\n', 'test', dir);
    assert.equal(cfg.upstream.scheme, 'https');
    assert.deepEqual(cfg.upstream.tls, { ca: undefined, cert: undefined, key: undefined, serverName: 'pg.internal', insecureSkipVerify: true });
    assert.equal(cfg.upstream.authorization, `Basic ${Buffer.from('pusher:s3cret').toString('base64')}`);
    assert.equal(parseConfig('').upstream.scheme, 'http');
    assert.equal(parseConfig('').upstream.authorization, undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('bad upstream TLS and basic auth settings are refused, naming the key', () => {
  const cases: Array<[string, RegExp]> = [
    ['upstream: { tls_config: { insecure_skip_verify: true } }', /upstream\.tls_config: set upstream\.scheme: https/],
    ['upstream: { scheme: https, tls_config: { ca_file: /nonexistent/ca.crt } }', /upstream\.tls_config\.ca_file: cannot read \/nonexistent\/ca\.crt: ENOENT/],
    ['upstream: { scheme: https, tls_config: { cert_file: /etc/hostname } }', /cert_file and key_file go together/],
    ['upstream: { basic_auth: { username: a, password: b, password_file: c } }', /set password or password_file, not both/],
    ['upstream: { basic_auth: { password: b } }', /upstream\.basic_auth\.username/],
    ['upstream: { scheme: ftp }', /upstream\.scheme/],
    ['upstream: { tls_config: { ca: x } }', /upstream\.tls_config\.ca: unknown key/],
  ];
  for (const [yaml, message] of cases) assert.throws(() => parseConfig(yaml), (err: unknown) => err instanceof ConfigError && message.test(err.message), yaml);
});
