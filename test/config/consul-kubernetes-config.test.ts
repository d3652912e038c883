import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, ConfigError } from '../../src/config/load-config.js';

const dir = mkdtempSync(join(tmpdir(), 'ck-config-'));
writeFileSync(join(dir, 'consul-token'), 'tok\n');
writeFileSync(join(dir, 'ca.pem'), 'CA');
writeFileSync(join(dir, 'sa-token'), 'sa');

test('membership.consul: server, service, tags, datacenter, token file, wait', () => {
  const cfg = parseConfig('membership:\n  consul: { server: "https://consul:8501", service: pg, tags: [prod], datacenter: dc2, token_file: consul-token, wait: 30s, tls_config: { ca_file: ca.pem } }\n', 'x.yml', dir);
  assert.deepEqual(cfg.membership.source, {
    kind: 'consul', connection: { address: 'https://consul:8501', token: 'tok', basicAuth: undefined, tls: { ca: 'CA', insecureSkipVerify: false } },
    service: 'pg', tags: ['prod'], datacenter: 'dc2', waitMs: 30_000,
  });
});

test('membership.kubernetes: explicit API server with token file and CA; the namespace is required outside a cluster', () => {
  const cfg = parseConfig('membership:\n  kubernetes: { api_server: "https://k8s:6443", namespace: monitoring, service: pushgateway, port_name: http, token_file: sa-token, ca_file: ca.pem }\n', 'x.yml', dir);
  assert.deepEqual(cfg.membership.source, {
    kind: 'kubernetes', namespace: 'monitoring', service: 'pushgateway', portName: 'http',
    api: { server: 'https://k8s:6443', token: { file: join(dir, 'sa-token') }, ca: 'CA', cert: undefined, key: undefined, insecureSkipVerify: false, defaultNamespace: undefined },
  });
});

test('consul_server with another source: the targets are registered and stand beside the source', () => {
  const cfg = parseConfig('consul_server: { addr: "c:8500", register_service_name: pgw, username: u, password: p }\ntargets: ["a:9091"]\nmembership:\n  kubernetes: { api_server: "http://k:80", namespace: n, service: s }\n');
  assert.equal(cfg.membership.source.kind, 'kubernetes');
  assert.deepEqual(cfg.consulServer?.connection.basicAuth, { username: 'u', password: 'p' });
  assert.equal(cfg.consulServer?.serviceName, 'pgw');
});

test('consul_server without addr talks to the local agent at 127.0.0.1:8500, as the Go client dynamic-sharding used', () => {
  assert.equal(parseConfig('consul_server: { addr: }\n').consulServer?.connection.address, '127.0.0.1:8500');
});

test('bad consul and kubernetes blocks are refused, naming the key', () => {
  const bad: Array<[string, RegExp]> = [
    ['membership: { consul: { server: c, service: s }, dns: { names: [a], type: A, port: 1 } }\n', /membership: set only one source/],
    ['targets: ["a:1"]\nmembership: { consul: { server: c, service: s } }\n', /targets and membership.consul/],
    ['membership: { consul: { server: c, service: s, wait: 11m } }\n', /membership.consul.wait: must be between 1s and 10m/],
    ['membership: { consul: { server: c, service: s, token_file: nope } }\n', /membership.consul.token_file: cannot read/],
    ['membership: { kubernetes: { service: s } }\n', /membership.kubernetes: not running in a cluster/],
    ['membership: { kubernetes: { api_server: "http://k", service: s } }\n', /membership.kubernetes.namespace: required/],
    ['membership: { kubernetes: { api_server: "k:6443", namespace: n, service: s } }\n', /membership.kubernetes.api_server: must be an http/],
    ['consul_server: { password: p }\n', /consul_server.username: required with password/],
  ];
  for (const [yaml, message] of bad) assert.throws(() => parseConfig(yaml, 'x.yml', dir), (err) => err instanceof ConfigError && message.test(err.message), yaml);
});
