/**
 * The `upstream` block's security keys (scheme, tls_config, basic_auth), as
 * Prometheus names them in a scrape config. Files are read here, at load
 * time, relative to the config file's directory, so a missing or unreadable
 * file, or a certificate that does not parse, stops start-up (or a reload)
 * with an error naming the key; a reload re-reads them all (rotation).
 */
import { createSecureContext } from 'node:tls';
import { type ConfigFile } from './schema.js';
import { type UpstreamSettings, type UpstreamTls } from './config.js';
import { readReferencedFile } from './referenced-file.js';

type UpstreamFile = NonNullable<ConfigFile['upstream']>;
type Security = Pick<UpstreamSettings, 'scheme' | 'tls' | 'authorization'>;

/** @param problems collects what is wrong; the result is meaningless when it grew. */
export function upstreamSecurity(file: UpstreamFile | undefined, baseDir: string, problems: string[]): Security {
  const scheme = file?.scheme ?? 'http';
  const read = (key: string, path: string | undefined): string | undefined =>
    path === undefined ? undefined : readReferencedFile(baseDir, path, `upstream.${key}`, problems);

  let tls: UpstreamTls | undefined;
  const t = file?.tls_config;
  if (t !== undefined) {
    if (scheme !== 'https') problems.push('upstream.tls_config: set upstream.scheme: https to use it');
    if ((t.cert_file === undefined) !== (t.key_file === undefined)) problems.push('upstream.tls_config: cert_file and key_file go together');
    tls = {
      ca: read('tls_config.ca_file', t.ca_file),
      cert: read('tls_config.cert_file', t.cert_file),
      key: read('tls_config.key_file', t.key_file),
      serverName: t.server_name,
      insecureSkipVerify: t.insecure_skip_verify ?? false,
    };
    try {
      // Parses the PEM data now, so a bad file is a config error and not a failed push later.
      createSecureContext({ ca: tls.ca, cert: tls.cert, key: tls.key });
    } catch (err) {
      problems.push(`upstream.tls_config: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  let authorization: string | undefined;
  const a = file?.basic_auth;
  if (a !== undefined) {
    if (a.password !== undefined && a.password_file !== undefined) problems.push('upstream.basic_auth: set password or password_file, not both');
    // Prometheus trims the file's trailing newline(s) the same way.
    const password = a.password ?? read('basic_auth.password_file', a.password_file)?.replace(/[\r\n]+$/, '') ?? '';
    if (a.username.includes(':')) problems.push('upstream.basic_auth.username: must not contain ":"');
    authorization = `Basic ${Buffer.from(`${a.username}:${password}`, 'utf8').toString('base64')}`;
  }
  return { scheme, tls, authorization };
}
