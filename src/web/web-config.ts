/**
 * Reads and validates a `--web.config.file` (exporter-toolkit format) into a
 * frozen WebConfig. File names inside it are relative to the file's own
 * directory, as in the toolkit. Every problem is a ConfigError naming the
 * file and the key: at start-up shardgate exits 1, on reload the old web
 * configuration stays in force.
 */
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../config/load-config.js';
import { readReferencedFile } from '../config/referenced-file.js';
import { ALLOWED_HEADERS, CURVES, TLS_VERSIONS, webConfigSchema, type WebConfigFile } from './web-config-schema.js';
import { opensslCiphers } from './go-cipher-suites.js';
import { isBcryptHash } from './basic-auth.js';

export type ClientAuthType = 'NoClientCert' | 'RequestClientCert' | 'RequireAnyClientCert' | 'VerifyClientCertIfGiven' | 'RequireAndVerifyClientCert';

export interface TlsServerSettings {
  /** Certificate, key, client CAs, versions, ciphers: what `setSecureContext` takes. */
  readonly context: SecureContextOptions;
  readonly clientAuth: ClientAuthType;
  /** When set, a client certificate must carry one of these SANs. */
  readonly allowedSans: readonly string[] | undefined;
}

export interface WebConfig {
  readonly tls: TlsServerSettings | undefined;
  /** user name → bcrypt hash; empty: no basic auth. */
  readonly users: ReadonlyMap<string, string>;
  /** Extra response headers, set on every answer. */
  readonly headers: readonly (readonly [string, string])[];
}

export const NO_WEB_CONFIG: WebConfig = Object.freeze({ tls: undefined, users: new Map<string, string>(), headers: Object.freeze([]) });

export async function loadWebConfig(path: string): Promise<WebConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read web config file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (err) {
    throw new ConfigError(`web config ${path}: invalid YAML: ${err instanceof Error ? err.message : String(err)}`);
  }
  const parsed = webConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) =>
      i.code === 'unrecognized_keys' ? i.keys.map((k) => `${[...i.path, k].map(String).join('.')}: unknown key`).join('; ') : `${i.path.map(String).join('.') || '(top level)'}: ${i.message}`,
    );
    throw new ConfigError(`web config ${path}: ${issues.join('; ')}`);
  }
  const problems: string[] = [];
  const config = build(parsed.data, dirname(path), problems);
  if (problems.length > 0) throw new ConfigError(`web config ${path}: ${problems.join('; ')}`);
  return config;
}

function build(file: WebConfigFile, baseDir: string, problems: string[]): WebConfig {
  const users = new Map(Object.entries(file.basic_auth_users ?? {}));
  for (const [user, hash] of users) if (!isBcryptHash(hash)) problems.push(`basic_auth_users.${user}: not a bcrypt hash`);
  const headers = Object.entries(file.http_server_config?.headers ?? {});
  for (const [name, value] of headers) {
    const allowed = ALLOWED_HEADERS[name];
    if (allowed === undefined) problems.push(`http_server_config.headers: HTTP header ${JSON.stringify(name)} can not be configured`);
    else if (allowed !== null && !allowed.includes(value)) problems.push(`http_server_config.headers.${name}: expected one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  }
  const tls = tlsSettings(file.tls_server_config ?? undefined, baseDir, problems);
  return Object.freeze({ tls, users, headers: Object.freeze(headers.filter(([, v]) => v !== '').map(([n, v]) => Object.freeze([n, v] as const))) });
}

function tlsSettings(t: NonNullable<WebConfigFile['tls_server_config']> | undefined, baseDir: string, problems: string[]): TlsServerSettings | undefined {
  // As in the toolkit: any of these keys turns TLS on, and then a certificate and key are required.
  if (t === undefined) return undefined;
  const enabled = [t.cert, t.key, t.cert_file, t.key_file, t.client_ca, t.client_ca_file, t.client_auth_type].some((v) => v !== undefined && v !== '');
  if (!enabled) return undefined;
  const read = (key: string, path: string | undefined, inline: string | undefined): string | undefined => {
    if (path !== undefined && path !== '' && inline !== undefined && inline !== '') problems.push(`tls_server_config: set ${key} or its inline form, not both`);
    if (path === undefined || path === '') return inline === '' ? undefined : inline;
    return readReferencedFile(baseDir, path, `tls_server_config.${key}`, problems);
  };
  const cert = read('cert_file', t.cert_file, t.cert);
  const key = read('key_file', t.key_file, t.key);
  const ca = read('client_ca_file', t.client_ca_file, t.client_ca);
  if (cert === undefined && !problems.some((p) => p.includes('cert_file'))) problems.push('tls_server_config: missing one of cert or cert_file');
  if (key === undefined && !problems.some((p) => p.includes('key_file'))) problems.push('tls_server_config: missing one of key or key_file');
  const clientAuth: ClientAuthType = t.client_auth_type === 'RequireClientCert' ? 'RequireAnyClientCert' : (t.client_auth_type ?? 'NoClientCert');
  if (ca !== undefined && clientAuth === 'NoClientCert') problems.push("tls_server_config: client CA's have been configured without a Client Auth Policy (client_auth_type)");
  const context: SecureContextOptions = {
    cert,
    key,
    ca,
    minVersion: TLS_VERSIONS[t.min_version ?? 'TLS12'],
    maxVersion: TLS_VERSIONS[t.max_version ?? 'TLS13'],
    honorCipherOrder: t.prefer_server_cipher_suites ?? true,
    ...(t.cipher_suites && t.cipher_suites.length > 0 ? { ciphers: opensslCiphers(t.cipher_suites) } : {}),
    ...(t.curve_preferences && t.curve_preferences.length > 0 ? { ecdhCurve: t.curve_preferences.map((c) => CURVES[c]).join(':') } : {}),
  };
  if (cert !== undefined && key !== undefined) {
    try {
      // Parses certificate, key and CAs now: a bad file is refused here, not at the first handshake.
      createSecureContext(context);
    } catch (err) {
      problems.push(`tls_server_config: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return Object.freeze({ context: Object.freeze(context), clientAuth, allowedSans: t.client_allowed_sans ? Object.freeze([...t.client_allowed_sans]) : undefined });
}
