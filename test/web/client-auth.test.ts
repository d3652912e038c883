/**
 * The exporter-toolkit's five client_auth_type values on shardgate's HTTPS
 * server: a real server on loopback, real TLS clients with no certificate,
 * a certificate the client CA signed, and a self-signed one.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { makePki, type TestPki } from '../support/test-pki.js';
import { tlsRequest } from '../support/tls-client.js';
import { WebServer } from '../../src/web/web-server.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { sendText } from '../../src/http/respond.js';

let pki: TestPki;
before(async () => {
  pki = await makePki();
});
after(() => pki.remove());

type Outcome = 'ok' | 'refused';
const CASES: ReadonlyArray<[string, { none: Outcome; trusted: Outcome; untrusted: Outcome }]> = [
  ['NoClientCert', { none: 'ok', trusted: 'ok', untrusted: 'ok' }],
  ['RequestClientCert', { none: 'ok', trusted: 'ok', untrusted: 'ok' }],
  ['RequireAnyClientCert', { none: 'refused', trusted: 'ok', untrusted: 'ok' }],
  ['VerifyClientCertIfGiven', { none: 'ok', trusted: 'ok', untrusted: 'refused' }],
  ['RequireAndVerifyClientCert', { none: 'refused', trusted: 'ok', untrusted: 'refused' }],
];

for (const [type, expected] of CASES) {
  test(`client_auth_type ${type}`, async (t) => {
    const file = pki.path(`web-${type}.yml`);
    const ca = type === 'NoClientCert' ? '' : '  client_ca_file: ca.crt\n';
    await writeFile(file, `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n${ca}  client_auth_type: ${type}\n`);
    const web = await WebServer.load(file, silentLogger());
    const server = web.createServer(web.handler('', (_req, res) => sendText(res, 200, 'OK')));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => new Promise<void>((r) => server.close(() => r())));
    const address = server.address();
    assert.ok(address !== null && typeof address === 'object');
    const url = `https://127.0.0.1:${address.port}/`;
    const caPem = await pki.read('ca.crt');
    const attempt = async (cert?: string, key?: string): Promise<Outcome> => {
      try {
        const res = await tlsRequest(url, { ca: caPem, cert, key });
        return res.status === 200 ? 'ok' : 'refused';
      } catch {
        return 'refused';
      }
    };
    assert.deepEqual(
      {
        none: await attempt(),
        trusted: await attempt(await pki.read('client.crt'), await pki.read('client.key')),
        untrusted: await attempt(await pki.read('rogue.crt'), await pki.read('rogue.key')),
      },
      expected,
    );
  });
}
