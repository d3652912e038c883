/**
 * Securing both sides, on real processes: pushgateways started with their
 * own --web.config.file (TLS + basic auth) behind shardgate configured with
 * upstream scheme/tls_config/basic_auth; and shardgate serving TLS + basic
 * auth + client certificates to a Node client, with reloads that rotate the
 * certificate and change users, and a bad web config refused.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import bcrypt from 'bcryptjs';
import { makePki, type TestPki } from '../support/test-pki.js';
import { tlsRequest, type TlsClientOptions } from '../support/tls-client.js';
import { startPushgateways, type TestPushgateway } from '../support/pushgateway.js';
import { startShardgate } from '../support/shardgate.js';
import { waitFor } from '../support/wait-for.js';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));
let pki: TestPki;
let pgs: TestPushgateway[] = [];
let ca = '';
const pgAuth = 'pg-user:pg-pass';

before(async () => {
  pki = await makePki();
  ca = await pki.read('ca.crt');
  const webFile = pki.path('pushgateway-web.yml');
  await writeFile(webFile, `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\nbasic_auth_users:\n  pg-user: ${bcrypt.hashSync('pg-pass', 4)}\n`);
  await writeFile(pki.path('pg-password'), 'pg-pass\n');
  pgs = await startPushgateways(2, {
    extraArgs: [`--web.config.file=${webFile}`],
    healthProbe: async (target) => (await tlsRequest(`https://${target}/-/healthy`, { ca, auth: pgAuth })).status === 200,
  });
});
after(async () => {
  await Promise.all((pgs ?? []).map((p) => p.stop()));
  await pki?.remove();
});

const pgGroups = async (pg: TestPushgateway): Promise<Array<{ labels: Record<string, string> }>> =>
  (JSON.parse((await tlsRequest(`https://${pg.target}/api/v1/metrics`, { ca, auth: pgAuth })).text) as { data: Array<{ labels: Record<string, string> }> }).data;
const upstreamConfig = (password: string): string =>
  `targets: [${pgs.map((p) => `"${p.target}"`).join(', ')}]\nhealth_check: { interval: 200ms }\nupstream:\n  scheme: https\n  tls_config: { ca_file: ${pki.path('ca.crt')} }\n  basic_auth: ${password}\n`;

test('pushes, health checks, reads and drains reach pushgateways over TLS with basic auth', async (t) => {
  const sg = await startShardgate({ config: upstreamConfig(`{ username: pg-user, password_file: ${pki.path('pg-password')} }`), args: ['--web.enable-admin-api'], waitReady: true });
  t.after(() => sg.stop());
  // A client's own Authorization (meant for shardgate) is replaced by the upstream credentials.
  for (let i = 0; i < 6; i++) {
    const res = await fetch(`${sg.url}/metrics/job/tls/instance/i${i}`, { method: 'PUT', body: 'up 1\n', headers: { authorization: 'Basic Y2xpZW50OnNlY3JldA==' } });
    assert.equal(res.status, 200, await res.text());
  }
  const stored = async (): Promise<number> => (await Promise.all(pgs.map(pgGroups))).flat().length;
  assert.equal(await stored(), 6);
  const merged = (await (await fetch(`${sg.url}/api/v1/metrics`)).json()) as { data: unknown[]; warnings?: string[] };
  assert.equal(merged.data.length, 6);
  assert.equal(merged.warnings, undefined);

  // Drain one shard: the rebalancer reads, copies and deletes over TLS with auth.
  const [a, b] = pgs as [TestPushgateway, TestPushgateway];
  assert.equal((await fetch(`${sg.url}/api/v1/admin/drain?target=${a.target}`, { method: 'POST' })).status, 202);
  await waitFor(async () => (await pgGroups(a)).length === 0 && (await pgGroups(b)).length === 6, { what: 'the drained shard to empty over TLS' });
  assert.equal((await fetch(`${sg.url}/metrics/job/tls/instance/i0`, { method: 'DELETE' })).status, 202);
  await waitFor(async () => (await stored()) === 5, { what: 'the delete to reach the pushgateway' });
});

test('a wrong upstream password shows as the shards\' last error', async (t) => {
  const sg = await startShardgate({ config: upstreamConfig('{ username: pg-user, password: nope }') });
  t.after(() => sg.stop());
  await waitFor(
    async () => {
      const shards = (await (await fetch(`${sg.url}/api/v1/shards`)).json()) as { data: Array<{ last_error: string | null }> };
      return shards.data.every((s) => s.last_error?.includes('401') === true);
    },
    { what: 'health checks to report 401' },
  );
  assert.equal((await fetch(`${sg.url}/metrics/job/x`, { method: 'PUT', body: 'up 1\n' })).status, 503);
});

test('shardgate serves TLS, basic auth and client certificates; reload rotates the certificate and users; a bad file is refused', async (t) => {
  const hash = (pw: string): string => bcrypt.hashSync(pw, 4);
  const webConfig = (serverCert: string, users: string): string =>
    `tls_server_config:\n  cert_file: ${pki.path(`${serverCert}.crt`)}\n  key_file: ${pki.path(`${serverCert}.key`)}\n  client_ca_file: ${pki.path('ca.crt')}\n  client_auth_type: RequireAndVerifyClientCert\n  min_version: TLS12\nhttp_server_config:\n  http2: false\n  headers:\n    X-Frame-Options: deny\nbasic_auth_users:\n${users}`;
  const client: TlsClientOptions = { ca, cert: await pki.read('client.crt'), key: await pki.read('client.key'), auth: 'pusher:push-pass' };
  const sg = await startShardgate({
    config: `targets: ["${pgs[0]?.target ?? ''}"]\nupstream:\n  scheme: https\n  tls_config: { ca_file: ${pki.path('ca.crt')} }\n  basic_auth: { username: pg-user, password: pg-pass }\n`,
    webConfig: webConfig('server', `  pusher: ${hash('push-pass')}\n`),
    args: ['--web.enable-lifecycle'],
    https: true,
    waitReady: true,
    probe: async (url) => (await tlsRequest(url, client)).status === 200,
  });
  t.after(() => sg.stop());
  const webFile = join(sg.dir, 'web.yml');

  const push = await tlsRequest(`${sg.url}/metrics/job/secure`, { ...client, method: 'PUT', body: 'up 1\n' });
  assert.equal(push.status, 200, push.text);
  assert.equal(push.headers['x-frame-options'], 'deny', 'configured headers are on every answer');
  assert.equal(push.serverCn, 'shardgate server');

  // Every endpoint wants credentials, as with the exporter-toolkit.
  for (const path of ['/metrics/job/secure', '/metrics', '/-/healthy', '/-/ready', '/api/v1/shards', '/', '/nope']) {
    const res = await tlsRequest(`${sg.url}${path}`, { ...client, auth: undefined });
    assert.equal(res.status, 401, path);
    assert.equal(res.headers['www-authenticate'], 'Basic');
    assert.equal(res.headers['x-frame-options'], 'deny');
  }
  assert.equal((await tlsRequest(`${sg.url}/metrics`, { ...client, auth: 'pusher:wrong' })).status, 401);
  assert.equal((await tlsRequest(`${sg.url}/metrics`, { ...client, auth: 'nobody:push-pass' })).status, 401);
  // No client certificate, or one the client CA did not sign: no connection at all.
  await assert.rejects(tlsRequest(`${sg.url}/metrics`, { ca, auth: client.auth }));
  await assert.rejects(tlsRequest(`${sg.url}/metrics`, { ...client, cert: await pki.read('rogue.crt'), key: await pki.read('rogue.key') }));
  await assert.rejects(fetch(`${sg.url.replace('https:', 'http:')}/-/healthy`), 'no plain HTTP on a TLS listener');

  // Reload: a new certificate (new connections get it) and a new password.
  await writeFile(webFile, webConfig('server2', `  pusher: ${hash('new-pass')}\n`));
  const reloaded = await tlsRequest(`${sg.url}/-/reload`, { ...client, method: 'POST' });
  assert.equal(reloaded.status, 200, reloaded.text);
  const after = await tlsRequest(`${sg.url}/-/healthy`, { ...client, auth: 'pusher:new-pass' });
  assert.equal(after.status, 200);
  assert.equal(after.serverCn, 'shardgate server rotated', 'the rotated certificate is served');
  assert.equal((await tlsRequest(`${sg.url}/-/healthy`, client)).status, 401, 'the old password no longer works');

  // A bad web config is refused on reload, naming the problem; the running one stays.
  await writeFile(webFile, `${webConfig('server2', `  pusher: ${hash('new-pass')}\n`)}rate_limiter: {}\n`);
  const bad = await tlsRequest(`${sg.url}/-/reload`, { ...client, auth: 'pusher:new-pass', method: 'POST' });
  assert.equal(bad.status, 500);
  assert.match(bad.text, /rate_limiter: unknown key/);
  assert.equal((await tlsRequest(`${sg.url}/-/healthy`, { ...client, auth: 'pusher:new-pass' })).status, 200);
  assert.match(sg.logs(), /configuration reload failed; keeping the previous configuration/);
});

test('a bad web config stops start-up with exit 1 and says why', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'shardgate-web-'));
  await writeFile(join(dir, 'web.yml'), 'basic_auth_users:\n  alice: plaintext\n');
  const child = spawn(process.execPath, [MAIN, `--web.config.file=${join(dir, 'web.yml')}`, '--config.file=/dev/null'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  await rm(dir, { recursive: true, force: true });
  assert.equal(code, 1);
  assert.match(stderr, /cannot load web configuration.*basic_auth_users\.alice: not a bcrypt hash/);
});
