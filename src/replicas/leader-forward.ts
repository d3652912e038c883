/**
 * A follower's write, sent on to the leader as it came (method, path,
 * headers, body streamed), and the leader's answer sent back as it came.
 * The leader knows it was forwarded (`x-shardgate-forwarded-by`), and a
 * replica that is not the leader refuses a forwarded write instead of
 * forwarding it again (no loops while leadership changes hands).
 */
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { Agent, request } from 'undici';
import { ShardgateError } from '../http/errors.js';
import { errorCode, errorMessage } from '../upstream/upstream-error.js';

export const FORWARDED_BY = 'x-shardgate-forwarded-by';

/** Hop-by-hop headers (RFC 9110 §7.6.1) and what undici sets itself. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host']);

export class LeaderForward {
  readonly #agent: Agent;
  readonly #self: string;
  readonly #timeoutMs: () => number;

  constructor(self: string, timeoutMs: () => number) {
    this.#self = self;
    this.#timeoutMs = timeoutMs;
    this.#agent = new Agent({ connections: 64, keepAliveTimeout: 30_000 });
  }

  /**
   * Sends `req` to the leader at `leaderUrl` (its advertised base URL,
   * route prefix included) and answers `res` with the leader's answer.
   * Throws SHARDGATE_NO_LEADER when the leader cannot be reached before it
   * received the request, SHARDGATE_UPSTREAM_TIMEOUT (in doubt) when it
   * received it and did not answer.
   */
  async forward(req: IncomingMessage, res: ServerResponse, leaderId: string, leaderUrl: string): Promise<void> {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    headers[FORWARDED_BY] = this.#self;
    const timeout = this.#timeoutMs();
    let answer;
    try {
      answer = await request(leaderUrl.replace(/\/+$/, '') + (req.url ?? '/'), {
        method: req.method as 'PUT' | 'POST' | 'DELETE',
        headers,
        body: req,
        dispatcher: this.#agent,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
    } catch (err) {
      const code = errorCode(err);
      if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
        throw new ShardgateError('SHARDGATE_UPSTREAM_TIMEOUT', `the leader replica ${leaderId} did not answer in time`, true);
      }
      throw new ShardgateError('SHARDGATE_NO_LEADER', `the leader replica ${leaderId} (${leaderUrl}) cannot be reached: ${errorMessage(err)}; retry`);
    }
    const out: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
    res.writeHead(answer.statusCode, out);
    await pipeline(answer.body, res);
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}
