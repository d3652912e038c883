/**
 * The hot path: a push (PUT/POST/DELETE) for a parsed grouping key goes to
 * the key's owner. Proxy mode forwards the body unparsed (see
 * request-body.ts for when it is buffered) and returns the pushgateway's
 * status and body unchanged; redirect mode answers 307.
 *
 * Locking, routing and the DELETE fan-out live in push-router.ts.
 */
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { type GroupingKey } from '../groupingkey/grouping-key.js';
import { upstreamPath } from '../groupingkey/upstream-path.js';
import { type Mode } from '../config/config.js';
import { type UpstreamPools } from '../upstream/upstream-pools.js';
import { classifyUpstreamError } from '../upstream/upstream-error.js';
import { type Metrics } from '../telemetry/metrics.js';
import { ShardgateError } from '../http/errors.js';
import { type PushMethod, type PushRouter } from './push-router.js';
import { forwardedHeaders } from './forwarded-headers.js';
import { exchange, type Exchange } from '../upstream/exchange.js';
import { sendRedirect } from '../http/respond.js';
import { pushTarget, type RoutingTable } from './push-target.js';
import { bodyTooLarge, readPushBody, type PushBody } from './push-body.js';

export type { PushMethod } from './push-router.js';

export interface Routing extends RoutingTable {
  readonly mode: Mode;
}

export interface PushProxyDeps {
  readonly pools: UpstreamPools;
  readonly metrics: Metrics;
  readonly routing: () => Routing;
  /** Locks, routing and the DELETE fan-out: the same core the simulation drives. */
  readonly router: PushRouter;
  /** The body limit in bytes (limits.max_body_size); checks in push-body.ts. */
  readonly maxBodyBytes: () => number;
  /** Called when a target could not be reached, to re-check its health now. */
  readonly onUnreachable?: (target: string) => void;
}

export class PushProxy {
  readonly #deps: PushProxyDeps;

  constructor(deps: PushProxyDeps) {
    this.#deps = deps;
  }

  async handle(req: IncomingMessage, res: ServerResponse, method: PushMethod, key: GroupingKey): Promise<void> {
    if (this.#deps.routing().mode === 'redirect') {
      const target = pushTarget(this.#deps.routing(), key);
      if (target === undefined) {
        throw new ShardgateError('SHARDGATE_NO_HEALTHY_SHARD', 'no healthy pushgateway available: every configured shard is down or none is configured');
      }
      sendRedirect(res, 307, `${this.#deps.pools.origin(target)}${upstreamPath(key)}`);
      this.#deps.metrics.countRequest(method, '307', target);
      return;
    }
    // The body is read before the group's lock is taken: a slow client never holds up a move.
    const body = method === 'DELETE' ? undefined : await readPushBody(req, this.#deps.maxBodyBytes());
    if (body?.kind === 'aborted') {
      // Nothing reaches the pushgateway; the client is gone, so nobody reads an answer.
      this.#deps.metrics.countRequest(method, 'client_aborted', pushTarget(this.#deps.routing(), key) ?? 'none');
      res.destroy();
      return;
    }
    // A buffered body can be sent again: the router completes a push whose answer never came.
    const retry =
      body?.kind === 'buffered'
        ? {
            bytes: body.bytes.length,
            resend: (target: string, path: string) =>
              exchange(this.#deps.pools.get(target), { method, path, headers: forwardedHeaders(req.headers, req.socket.remoteAddress, body.bytes.length, body.decoded), body: body.bytes }),
          }
        : undefined;
    await this.#deps.router.route(
      method,
      key,
      async (target, path) => {
        this.#deps.metrics.inFlight.inc();
        try {
          return await this.#forward(req, res, method, target, path, body);
        } finally {
          this.#deps.metrics.inFlight.dec();
        }
      },
      retry,
    );
  }

  /** Forwards the push and answers the client; resolves with the pushgateway's status. */
  async #forward(req: IncomingMessage, res: ServerResponse, method: PushMethod, owner: string, path: string, body: Exclude<PushBody, { kind: 'aborted' }> | undefined): Promise<{ statusCode: number }> {
    const started = performance.now();
    let answer: Exchange;
    try {
      answer = await exchange(this.#deps.pools.get(owner), {
        method,
        path,
        headers: forwardedHeaders(req.headers, req.socket.remoteAddress, body?.kind === 'buffered' ? body.bytes.length : undefined, body?.decoded),
        body: body === undefined ? null : body.kind === 'buffered' ? body.bytes : body.stream,
      });
    } catch (err) {
      const failure = classifyUpstreamError(owner, err);
      this.#deps.metrics.upstreamErrors.inc({ shard: owner, reason: failure.reason });
      this.#deps.metrics.countRequest(method, String(failure.status), owner);
      if (failure.reason !== 'response_timeout') this.#deps.onUnreachable?.(owner);
      const inDoubt = failure.reason === 'response_timeout' || failure.reason === 'connection_reset';
      throw new ShardgateError(failure.status === 504 ? 'SHARDGATE_UPSTREAM_TIMEOUT' : 'SHARDGATE_UPSTREAM_UNREACHABLE', failure.message, inDoubt);
    }
    // A streamed body cut at the limit was rejected upstream; say why.
    if (body?.kind === 'streamed' && body.exceeded()) throw bodyTooLarge(this.#deps.maxBodyBytes());
    this.#deps.metrics.observeForward(owner, (performance.now() - started) / 1000);
    this.#deps.metrics.countRequest(method, String(answer.statusCode), owner);
    const headers: Record<string, string | number> = { 'content-length': answer.body.length };
    if (answer.contentType) headers['content-type'] = answer.contentType;
    res.writeHead(answer.statusCode, headers);
    res.end(answer.body);
    return answer;
  }
}
