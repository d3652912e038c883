/**
 * The exporter-toolkit web configuration file (`--web.config.file`), the
 * format Prometheus and Pushgateway read. Unknown keys are errors, as in the
 * toolkit (it unmarshals strictly). Values are checked here; files are read
 * and certificates parsed in web-config.ts.
 */
import { z } from 'zod';
import { GO_CIPHER_SUITES } from './go-cipher-suites.js';

export const CLIENT_AUTH_TYPES = ['NoClientCert', 'RequestClientCert', 'RequireAnyClientCert', 'VerifyClientCertIfGiven', 'RequireAndVerifyClientCert'] as const;
/** The toolkit still accepts this old name for RequireAnyClientCert. */
const CLIENT_AUTH_ALIASES = ['RequireClientCert'] as const;
export const TLS_VERSIONS = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' } as const;
export const CURVES = { CurveP256: 'P-256', CurveP384: 'P-384', CurveP521: 'P-521', X25519: 'X25519' } as const;

/** The toolkit allows only these response headers, some with fixed values. */
export const ALLOWED_HEADERS: Readonly<Record<string, readonly string[] | null>> = {
  'Strict-Transport-Security': null,
  'X-Content-Type-Options': ['nosniff'],
  'X-Frame-Options': ['deny', 'sameorigin'],
  'X-XSS-Protection': null,
  'Content-Security-Policy': null,
};

const versionName = z.enum(Object.keys(TLS_VERSIONS) as [keyof typeof TLS_VERSIONS]);

export const webConfigSchema = z.strictObject({
  tls_server_config: z
    .strictObject({
      cert: z.string().optional(),
      key: z.string().optional(),
      client_ca: z.string().optional(),
      cert_file: z.string().optional(),
      key_file: z.string().optional(),
      client_auth_type: z.enum([...CLIENT_AUTH_TYPES, ...CLIENT_AUTH_ALIASES]).optional(),
      client_ca_file: z.string().optional(),
      client_allowed_sans: z.array(z.string()).optional(),
      min_version: versionName.optional(),
      max_version: versionName.optional(),
      cipher_suites: z.array(z.string().refine((s) => s in GO_CIPHER_SUITES, { error: (i) => `unknown cipher: ${String(i.input)}` })).optional(),
      prefer_server_cipher_suites: z.boolean().optional(),
      curve_preferences: z.array(z.enum(Object.keys(CURVES) as [keyof typeof CURVES])).optional(),
    })
    .nullish(),
  http_server_config: z
    .strictObject({
      // Accepted for compatibility; shardgate serves HTTP/1.1 (see README).
      http2: z.boolean().optional(),
      headers: z.record(z.string(), z.string()).optional(),
    })
    .nullish(),
  basic_auth_users: z.record(z.string(), z.string()).nullish(),
});

export type WebConfigFile = z.infer<typeof webConfigSchema>;
