/**
 * A Node HTTPS client for tests: one request on a fresh connection (so a
 * rotated server certificate or a changed client-auth policy is seen), with
 * optional CA, client certificate and basic-auth credentials. Resolves with
 * status, headers, body and the server certificate's subject CN; rejects when
 * the TLS handshake or the connection fails.
 */
import { Agent, request } from 'undici';

export interface TlsClientOptions {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  /** "user:password" for basic auth. */
  readonly auth?: string;
  readonly method?: 'GET' | 'PUT' | 'POST' | 'DELETE';
  readonly body?: string;
}

export interface TlsAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  readonly serverCn: string | undefined;
}

export async function tlsRequest(url: string, opts: TlsClientOptions = {}): Promise<TlsAnswer> {
  let serverCn: string | undefined;
  const agent = new Agent({
    connect: {
      ca: opts.ca,
      cert: opts.cert,
      key: opts.key,
      // Records which certificate the server presented (rotation tests).
      checkServerIdentity: (_host, cert) => {
        const cn = cert.subject.CN;
        serverCn = Array.isArray(cn) ? cn[0] : cn;
        return undefined;
      },
    },
  });
  try {
    const res = await request(url, {
      dispatcher: agent,
      method: opts.method ?? 'GET',
      body: opts.body,
      headers: opts.auth === undefined ? {} : { authorization: `Basic ${Buffer.from(opts.auth).toString('base64')}` },
      signal: AbortSignal.timeout(10_000),
    });
    return { status: res.statusCode, headers: res.headers, text: await res.body.text(), serverCn };
  } finally {
    await agent.close();
  }
}
