/**
 * The web config file (exporter-toolkit format): what loads, and every bad
 * file refused with an error naming the key.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { makePki, type TestPki } from '../support/test-pki.js';
import { loadWebConfig } from '../../src/web/web-config.js';
import { ConfigError } from '../../src/config/load-config.js';

let pki: TestPki;
before(async () => {
  pki = await makePki();
});
after(() => pki.remove());

async function load(yaml: string): Promise<Awaited<ReturnType<typeof loadWebConfig>>> {
  const file = pki.path('web.yml');
  await writeFile(file, yaml);
  return loadWebConfig(file);
}

test('a full web config loads: relative files, versions, ciphers and curves mapped, headers, users; frozen', async () => {
  const c = await load(`tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_ca_file: ca.crt
  client_auth_type: RequireClientCert
  min_version: TLS13
  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256]
  prefer_server_cipher_suites: false
  curve_preferences: [X25519, CurveP256]
  client_allowed_sans: [pusher]
http_server_config:
  http2: true
  headers: { X-Content-Type-Options: nosniff, Strict-Transport-Security: "max-age=3600" }
basic_auth_users:
  alice: $2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi
`);
  assert.equal(c.tls?.clientAuth, 'RequireAnyClientCert', 'the old name maps to the new one');
  assert.equal(c.tls?.context.minVersion, 'TLSv1.3');
  assert.equal(c.tls?.context.maxVersion, 'TLSv1.3');
  assert.match(String(c.tls?.context.ciphers), /^TLS_AES_256_GCM_SHA384:.*:ECDHE-RSA-AES128-GCM-SHA256$/);
  assert.equal(c.tls?.context.ecdhCurve, 'X25519:P-256');
  assert.equal(c.tls?.context.honorCipherOrder, false);
  assert.deepEqual(c.tls?.allowedSans, ['pusher']);
  assert.deepEqual(c.headers, [['X-Content-Type-Options', 'nosniff'], ['Strict-Transport-Security', 'max-age=3600']]);
  assert.deepEqual([...c.users.keys()], ['alice']);
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.tls));
});

test('an empty web config means no TLS and no auth', async () => {
  const c = await load('');
  assert.equal(c.tls, undefined);
  assert.equal(c.users.size, 0);
});

test('bad web configs are refused, naming the key', async () => {
  const cases: Array<[string, RegExp]> = [
    ['tls_server_config:\n  cert_file: missing.crt\n  key_file: server.key\n', /tls_server_config\.cert_file: cannot read .*missing\.crt: ENOENT/],
    ['tls_server_config:\n  cert_file: server.crt\n', /missing one of key or key_file/],
    ['tls_server_config:\n  cert_file: ca.crt\n  key_file: server.key\n', /tls_server_config: .*key values mismatch/],
    ['basic_auth_users:\n  alice: plaintext\n', /basic_auth_users\.alice: not a bcrypt hash/],
    ['tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_ca_file: ca.crt\n', /client CA's have been configured without a Client Auth Policy/],
    ['tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: Sometimes\n', /client_auth_type: Invalid option/],
    ['tls_server_config:\n  min_version: TLS9\n', /min_version: Invalid option/],
    ['http_server_config:\n  headers:\n    Server: shardgate\n', /HTTP header "Server" can not be configured/],
    ['http_server_config:\n  headers:\n    X-Frame-Options: allow\n', /X-Frame-Options: expected one of deny, sameorigin/],
    ['tls_server_config:\n  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n', /unknown cipher: TLS_RSA_WITH_RC4_128_SHA/],
    ['rate_limit: { interval: 1s, burst: 10 }\n', /rate_limit: unknown key/],
    ['tls_server_config:\n  certfile: server.crt\n', /tls_server_config\.certfile: unknown key/],
    ['basic_auth_users: [alice]\n', /basic_auth_users/],
    ['{', /invalid YAML/],
  ];
  for (const [yaml, message] of cases) {
    await assert.rejects(load(yaml), (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.match(err.message, message, yaml);
      return true;
    });
  }
});
