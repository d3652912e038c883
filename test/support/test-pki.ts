/**
 * Certificates for TLS tests, made with Debian's `openssl` into a fresh temp
 * dir: a CA, a server certificate for 127.0.0.1/localhost (and a second one,
 * for rotation), a client certificate the CA signed, and a self-signed client
 * certificate nobody trusts. EC P-256 keys: quick to make, and Go reads them.
 *
 * Callers MUST call remove() in t.after / after.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestPki {
  readonly dir: string;
  /** Absolute path of a file in dir: ca.crt, server.crt/.key, server2.crt/.key, client.crt/.key, rogue.crt/.key. */
  path(name: string): string;
  read(name: string): Promise<string>;
  remove(): Promise<void>;
}

export async function makePki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'shardgate-pki-'));
  const path = (name: string): string => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const openssl = (...args: string[]): Promise<unknown> => run('openssl', args, { cwd: dir });
  await openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=shardgate test CA');
  // Each certificate gets its own serial: -CAcreateserial shares one ca.srl file, which the
  // concurrent signings below would read half-written.
  const signed = async (name: string, serial: number, cn: string, ext: string): Promise<void> => {
    await writeFile(path(`${name}.ext`), `${ext}\n`);
    await openssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    await openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', String(serial), '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
  };
  await Promise.all([
    signed('server', 1, 'shardgate server', 'subjectAltName=IP:127.0.0.1,DNS:localhost'),
    signed('server2', 2, 'shardgate server rotated', 'subjectAltName=IP:127.0.0.1,DNS:localhost'),
    signed('client', 3, 'pusher', 'subjectAltName=DNS:pusher\nextendedKeyUsage=clientAuth'),
    openssl('req', '-x509', ...ec, '-keyout', 'rogue.key', '-out', 'rogue.crt', '-days', '2', '-subj', '/CN=rogue', '-addext', 'subjectAltName=DNS:pusher'),
  ]);
  return { dir, path, read: (name) => readFile(path(name), 'utf8'), remove: () => rm(dir, { recursive: true, force: true }) };
}
