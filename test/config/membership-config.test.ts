import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, ConfigError } from '../../src/config/load-config.js';

test('no membership block: the static targets, with the default guard rules', () => {
  const cfg = parseConfig('targets: ["a:9091"]\n');
  assert.deepEqual(cfg.membership, { source: { kind: 'static' }, removeAfterMs: 30_000, maxRemovalRatio: 0.5 });
});

test('file_sd: patterns relative to the config file, Prometheus\' refresh default', () => {
  const cfg = parseConfig('membership:\n  file_sd: { files: ["sd/*.json", "/etc/pg.yml"] }\n  remove_after: 10s\n  max_removal_ratio: 0.25\n', 'x.yml', '/cfg');
  assert.deepEqual(cfg.membership, {
    source: { kind: 'file_sd', files: ['/cfg/sd/*.json', '/etc/pg.yml'], refreshIntervalMs: 300_000 },
    removeAfterMs: 10_000,
    maxRemovalRatio: 0.25,
  });
});

test('dns: SRV by default; A and AAAA need a port; the resolver is host:port', () => {
  const srv = parseConfig('membership:\n  dns: { names: [_pg._tcp.example], resolver: "127.0.0.1:5353", refresh_interval: 5s }\n');
  assert.deepEqual(srv.membership.source, { kind: 'dns', names: ['_pg._tcp.example'], type: 'SRV', port: undefined, refreshIntervalMs: 5000, resolver: '127.0.0.1:5353' });
  const a = parseConfig('membership:\n  dns: { names: [pg.example], type: A, port: 9091 }\n');
  assert.equal(a.membership.source.kind === 'dns' && a.membership.source.port, 9091);
});

test('bad membership blocks are refused, naming the key', () => {
  const bad: Array<[string, RegExp]> = [
    ['targets: ["a:1"]\nmembership: { file_sd: { files: [x.json] } }\n', /targets and membership.file_sd/],
    ['membership: { file_sd: { files: [x.json] }, dns: { names: [a], type: A, port: 1 } }\n', /membership: set only one source/],
    ['membership: { file_sd: { files: [x.txt] } }\n', /membership.file_sd.files.0: .*\.json, \.yml or \.yaml/],
    ['membership: { file_sd: { files: ["a*/x.json"] } }\n', /last path segment/],
    ['membership: { dns: { names: [a], type: A } }\n', /membership.dns.port: required for type A/],
    ['membership: { dns: { names: [a], port: 1 } }\n', /SRV records carry their own port/],
    ['membership: { dns: { names: [a], resolver: "nope" } }\n', /membership.dns.resolver: must be host:port/],
    ['membership: { max_removal_ratio: 1.5 }\n', /membership.max_removal_ratio/],
    ['membership: { consul_sd: {} }\n', /membership.consul_sd: unknown key/],
  ];
  for (const [yaml, message] of bad) assert.throws(() => parseConfig(yaml), (err) => err instanceof ConfigError && message.test(err.message), yaml);
});
