/**
 * The hot path: a push (PUT/POST/DELETE) for a parsed grouping key goes to
 * the key's owner. Proxy mode forwards the body unparsed (see
 * request-body.ts for when it is buffered) and returns the pushgateway's
 * status and body unchanged; redirect mode answers 307.
 *
 * With `push.consistency_check: gateway` (a GatewayCheck is given), every
 * PUT/POST is read whole, parsed and checked against the fleet index first
 * (gateway-check.ts): a rejected push gets Pushgateway's 400 and message and
 * only stamps the group's failure time on its shard; an accepted one is
 * forwarded and answered 200 with an empty body, as a checked pushgateway
 * answers.
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

/** A body read for forwarding (an aborted one never gets this far). */
type ReadBody = Exclude<PushBody, { kind: 'aborted' }>;
import { FAILURE_STAMP_BODY, type GatewayCheck } from './gateway-check.js';
import { type Resend } from '../rebalance/in-doubt-writes.js';
import { type StandbyWriter } from '../replication/standby-writer.js';

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
  /** Set in `push.consistency_check: gateway` mode. */
  readonly gateway?: GatewayCheck;
  /** Set when replication is on: an acknowledged write is mirrored to the group's standby before the client's answer. */
  readonly standby?: StandbyWriter;
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
    const gateway = this.#deps.gateway;
    // The body is read before the group's lock is taken: a slow client never holds up a move.
    // Replication sends the body twice (owner, standby): it is read whole, as gateway mode reads it.
    const body = method === 'DELETE' ? undefined : await readPushBody(req, this.#deps.maxBodyBytes(), gateway !== undefined || this.#deps.standby !== undefined);
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
            resend: ((target, path) =>
              exchange(this.#deps.pools.get(target), { method, path, headers: forwardedHeaders(req.headers, req.socket.remoteAddress, body.bytes.length, body.decoded), body: body.bytes })) satisfies Resend,
          }
        : undefined;
    if (gateway !== undefined) return this.#handleChecked(req, res, method, key, gateway, body, retry);
    let unmirrored: ShardgateError | undefined;
    // Answered only once the router is done: with several replicas it may still refuse to confirm the write.
    const answer = await this.#deps.router.route(
      method,
      key,
      async (target, path) => {
        this.#deps.metrics.inFlight.inc();
        try {
          const started = performance.now();
          const answer = await this.#send(req, method, target, path, body);
          // A streamed body cut at the limit was rejected upstream; say why.
          if (body?.kind === 'streamed' && body.exceeded()) throw bodyTooLarge(this.#deps.maxBodyBytes());
          this.#deps.metrics.observeForward(target, (performance.now() - started) / 1000);
          unmirrored = await this.#mirror(req, method, key, path, body, answer);
          this.#deps.metrics.countRequest(method, unmirrored === undefined ? String(answer.statusCode) : '503', target);
          return answer;
        } finally {
          this.#deps.metrics.inFlight.dec();
        }
      },
      retry,
    );
    if (unmirrored !== undefined) throw unmirrored;
    writeAnswer(res, answer);
  }

  /**
   * Replication: still inside the router's send callback (the group's lock
   * is held), mirrors a write the owner acknowledged to the group's standby.
   * The error to answer instead when no standby took it; the router still
   * learns the owner's answer, which is what the owner holds.
   */
  async #mirror(req: IncomingMessage, method: PushMethod, key: GroupingKey, path: string, body: ReadBody | undefined, answer: Exchange): Promise<ShardgateError | undefined> {
    const standby = this.#deps.standby;
    if (standby === undefined || answer.statusCode < 200 || answer.statusCode >= 300) return undefined;
    const bytes = body?.kind === 'buffered' ? body.bytes : null;
    try {
      await standby.mirror(method, key, path, bytes, forwardedHeaders(req.headers, req.socket.remoteAddress, bytes?.length, body?.decoded));
      return undefined;
    } catch (err) {
      if (err instanceof ShardgateError) return err;
      throw err;
    }
  }

  /**
   * Gateway mode. The body is read and parsed before the group's lock is
   * taken (a parse error is answered without touching anything); the check,
   * the forward and the index update run in the group's order.
   */
  async #handleChecked(
    req: IncomingMessage,
    res: ServerResponse,
    method: PushMethod,
    key: GroupingKey,
    gateway: GatewayCheck,
    body: ReadBody | undefined,
    retry: { readonly bytes: number; readonly resend: Resend } | undefined,
  ): Promise<void> {
    if (body?.kind === 'streamed') throw new Error('gateway check: body was not read whole');
    const push = body?.kind === 'buffered' ? gateway.parse(body.bytes, req.headers['content-type']) : undefined;
    let unmirrored: ShardgateError | undefined;
    let shown: Exchange | undefined;
    await gateway.inGroupOrder(key, async () => {
      let rejection: ShardgateError | undefined;
      await this.#deps.router.route(method, key, async (owner, path) => {
        const started = performance.now();
        this.#deps.metrics.inFlight.inc();
        try {
          if (method === 'DELETE' || push === undefined) {
            const answer = await this.#send(req, method, owner, path, body);
            if (answer.statusCode >= 200 && answer.statusCode < 300) gateway.deleted(key);
            unmirrored = await this.#mirror(req, method, key, path, body, answer);
            this.#deps.metrics.countRequest(method, unmirrored === undefined ? String(answer.statusCode) : '503', owner);
            shown = answer;
            return answer;
          }
          const verdict = gateway.admit(method, key, push);
          if (!verdict.accepted) {
            this.#deps.metrics.countRequest(method, '400', owner);
            rejection = gateway.rejection(verdict, (k) => pushTarget(this.#deps.routing(), k));
            return { statusCode: 400 };
          }
          let answer: Exchange;
          try {
            answer = await this.#send(req, method, owner, path, body);
          } catch (err) {
            // A push in doubt stays in the index: shardgate completes it (push-router.ts), or a later write replaces it.
            if (!(err instanceof ShardgateError && err.inDoubt)) verdict.undo();
            throw err;
          }
          this.#deps.metrics.observeForward(owner, (performance.now() - started) / 1000);
          const ok = answer.statusCode >= 200 && answer.statusCode < 300;
          if (!ok) verdict.undo();
          // The owner holds the push either way, so the index keeps it even when no standby took it.
          unmirrored = await this.#mirror(req, method, key, path, body, answer);
          if (unmirrored !== undefined) {
            this.#deps.metrics.countRequest(method, '503', owner);
            return answer;
          }
          // A checked pushgateway answers an accepted push 200 with an empty body.
          shown = ok ? { ...answer, statusCode: 200, body: Buffer.alloc(0), contentType: undefined } : answer;
          this.#deps.metrics.countRequest(method, String(shown.statusCode), owner);
          return answer;
        } finally {
          this.#deps.metrics.inFlight.dec();
        }
      }, retry);
      if (rejection === undefined) return;
      // The failure stamp is a write of its own (a POST that may create the
      // group), routed like one so the rebalancer knows the group is there.
      // Best effort: the client's answer does not depend on it.
      await this.#deps.router.route('POST', key, (owner, path) => this.#stampFailure(owner, path)).catch(() => undefined);
      throw rejection;
    });
    if (unmirrored !== undefined) throw unmirrored;
    if (shown !== undefined) writeAnswer(res, shown);
  }

  /** See FAILURE_STAMP_BODY. */
  #stampFailure(owner: string, path: string): Promise<Exchange> {
    const headers = { 'content-type': 'text/plain; version=0.0.4', 'content-length': String(FAILURE_STAMP_BODY.length) };
    return exchange(this.#deps.pools.get(owner), { method: 'POST', path, headers, body: FAILURE_STAMP_BODY });
  }

  /** One exchange with a pushgateway; unreachable and timed-out shards become ShardgateErrors (inDoubt when the push may still apply). */
  async #send(req: IncomingMessage, method: PushMethod, owner: string, path: string, body: ReadBody | undefined): Promise<Exchange> {
    try {
      return await exchange(this.#deps.pools.get(owner), {
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
  }
}

function writeAnswer(res: ServerResponse, answer: Exchange): void {
  const headers: Record<string, string | number> = { 'content-length': answer.body.length };
  if (answer.contentType) headers['content-type'] = answer.contentType;
  res.writeHead(answer.statusCode, headers);
  res.end(answer.body);
}
