/**
 * The few Consul HTTP API calls shardgate makes, over one undici Agent:
 * the ACL token goes in `X-Consul-Token` (the header form the docs
 * recommend over `?token=`: https://developer.hashicorp.com/consul/api-docs/api-structure#authentication),
 * `username`/`password` as HTTP basic auth (what the Go API client's
 * `HttpAuth` sends, for a Consul behind an authenticating proxy).
 */
import { Agent, request } from 'undici';

export interface ConsulConnection {
  /** `host:port` (http) or a full `http://` / `https://` URL. */
  readonly address: string;
  readonly token: string | undefined;
  readonly basicAuth: { readonly username: string; readonly password: string } | undefined;
  readonly tls: { readonly ca: string | undefined; readonly insecureSkipVerify: boolean } | undefined;
}

export interface ConsulResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
}

export class ConsulApiError extends Error {
  override readonly name = 'ConsulApiError';
  readonly code = 'SHARDGATE_CONSUL';
}

export function consulBaseUrl(address: string): string {
  const withScheme = /^https?:\/\//.test(address) ? address : `http://${address}`;
  return withScheme.replace(/\/+$/, '');
}

export class ConsulApi {
  readonly #base: string;
  readonly #headers: Record<string, string>;
  readonly #agent: Agent;

  constructor(conn: ConsulConnection) {
    this.#base = consulBaseUrl(conn.address);
    this.#headers = {};
    if (conn.token !== undefined && conn.token !== '') this.#headers['x-consul-token'] = conn.token;
    if (conn.basicAuth) this.#headers['authorization'] = `Basic ${Buffer.from(`${conn.basicAuth.username}:${conn.basicAuth.password}`).toString('base64')}`;
    this.#agent = new Agent({
      connect: conn.tls ? { ca: conn.tls.ca, rejectUnauthorized: !conn.tls.insecureSkipVerify } : {},
      keepAliveTimeout: 30_000,
    });
  }

  get baseUrl(): string {
    return this.#base;
  }

  /**
   * One request; resolves with any HTTP status (the caller decides), rejects
   * on network errors, on `timeoutMs` without response headers, and on abort.
   */
  async call(method: 'GET' | 'PUT', path: string, opts: { query?: URLSearchParams; body?: unknown; timeoutMs: number; signal?: AbortSignal }): Promise<ConsulResponse> {
    const qs = opts.query && opts.query.size > 0 ? `?${opts.query.toString()}` : '';
    const headers: Record<string, string> = { ...this.#headers };
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] = 'application/json';
    }
    const res = await request(`${this.#base}${path}${qs}`, {
      method,
      headers,
      body,
      dispatcher: this.#agent,
      signal: opts.signal,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
    });
    return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
  }

  close(): Promise<void> {
    return this.#agent.close();
  }
}

/** A short reason for a non-2xx answer: status and the start of Consul's plain-text error. */
export function consulFailure(what: string, res: ConsulResponse): string {
  const detail = res.text.trim().slice(0, 200);
  return `${what}: HTTP ${res.status}${detail ? ` (${detail})` : ''}`;
}
