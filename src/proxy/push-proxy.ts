/**
 * The hot path: a push (PUT/POST/DELETE) for a parsed grouping key goes to
 * the key's owner. Proxy mode streams the body through unparsed and returns
 * the pushgateway's status and body unchanged; redirect mode answers 307.
 *
 * DELETE also goes, best effort, to every other ring member: a copy of the
 * group left there by an earlier owner must not outlive the client's delete
 * (the rebalancer would otherwise move it back).
 */
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { type GroupingKey, groupId, shardKey } from '../groupingkey/grouping-key.js';
import { upstreamPath } from '../groupingkey/upstream-path.js';
import { type Ring } from '../ring/ring.js';
import { type Mode } from '../config/config.js';
import { type UpstreamPools } from '../upstream/upstream-pools.js';
import { classifyUpstreamError } from '../upstream/upstream-error.js';
import { type Metrics } from '../telemetry/metrics.js';
import { ShardgateError } from '../http/errors.js';
import { type GroupLocks } from '../rebalance/group-locks.js';
import { forwardedHeaders } from './forwarded-headers.js';

export type PushMethod = 'PUT' | 'POST' | 'DELETE';

export interface Routing {
  readonly ring: Ring;
  /** groupId → shard that still holds a group the rebalancer has not moved yet. */
  readonly overrides: ReadonlyMap<string, string>;
  readonly mode: Mode;
}

export interface PushProxyDeps {
  readonly pools: UpstreamPools;
  readonly metrics: Metrics;
  readonly routing: () => Routing;
  /** Pushes hold their group's lock (shared) while forwarded, so a move waits for them. */
  readonly locks: GroupLocks;
  /** Called when an owner could not be reached, to re-check its health now. */
  readonly onUnreachable?: (target: string) => void;
}

export class PushProxy {
  readonly #deps: PushProxyDeps;

  constructor(deps: PushProxyDeps) {
    this.#deps = deps;
  }

  async handle(req: IncomingMessage, res: ServerResponse, method: PushMethod, key: GroupingKey): Promise<void> {
    const id = groupId(key);
    const wait = this.#deps.locks.acquireShared(id);
    if (wait) await wait;
    try {
      await this.#route(req, res, method, key, id);
    } finally {
      this.#deps.locks.releaseShared(id);
    }
  }

  async #route(req: IncomingMessage, res: ServerResponse, method: PushMethod, key: GroupingKey, id: string): Promise<void> {
    // Read the routing only once the lock is held: a move that just finished has updated it.
    const { ring, overrides, mode } = this.#deps.routing();
    const owner = (overrides.size > 0 ? overrides.get(id) : undefined) ?? ring.owner(shardKey(key));
    if (owner === undefined) {
      throw new ShardgateError('SHARDGATE_NO_HEALTHY_SHARD', 'no healthy pushgateway available: every configured shard is down or none is configured');
    }
    const path = upstreamPath(key);
    if (mode === 'redirect') {
      res.writeHead(307, { location: `http://${owner}${path}`, 'content-length': 0 });
      res.end();
      this.#deps.metrics.requests.inc({ method, code: '307', shard: owner });
      return;
    }
    if (method === 'DELETE') this.#fanOutDelete(ring, owner, path);
    this.#deps.metrics.inFlight.inc();
    try {
      await this.#forward(req, res, method, owner, path);
    } finally {
      this.#deps.metrics.inFlight.dec();
    }
  }

  async #forward(req: IncomingMessage, res: ServerResponse, method: PushMethod, owner: string, path: string): Promise<void> {
    const started = performance.now();
    let statusCode: number;
    let contentType: string | undefined;
    let payload: Buffer;
    try {
      const upstream = await this.#deps.pools.get(owner).request({
        method,
        path,
        // Always chunked upstream (no content-length), so a poisoned body is a complete request.
        headers: forwardedHeaders(req.headers, req.socket.remoteAddress),
        body: method === 'DELETE' ? null : Readable.from(completeBody(req), { objectMode: false }),
      });
      statusCode = upstream.statusCode;
      const ct = upstream.headers['content-type'];
      contentType = typeof ct === 'string' ? ct : undefined;
      payload = Buffer.from(await upstream.body.arrayBuffer());
    } catch (err) {
      const failure = classifyUpstreamError(owner, err);
      this.#deps.metrics.upstreamErrors.inc({ shard: owner, reason: failure.reason });
      this.#deps.metrics.requests.inc({ method, code: String(failure.status), shard: owner });
      if (failure.reason !== 'response_timeout') this.#deps.onUnreachable?.(owner);
      throw new ShardgateError(failure.status === 504 ? 'SHARDGATE_UPSTREAM_TIMEOUT' : 'SHARDGATE_UPSTREAM_UNREACHABLE', failure.message);
    }
    this.#deps.metrics.forwardDuration.observe({ shard: owner }, (performance.now() - started) / 1000);
    this.#deps.metrics.requests.inc({ method, code: String(statusCode), shard: owner });
    const headers: Record<string, string | number> = { 'content-length': payload.length };
    if (contentType) headers['content-type'] = contentType;
    res.writeHead(statusCode, headers);
    res.end(payload);
  }

  #fanOutDelete(ring: Ring, owner: string, path: string): void {
    for (const member of ring.members) {
      if (member === owner) continue;
      this.#deps.pools
        .get(member)
        .request({ method: 'DELETE', path })
        .then((r) => r.body.dump())
        .catch(() => undefined); // best effort: the sweep catches what this misses
    }
  }
}

/**
 * Bytes that make any push body unparsable for Pushgateway: a `{` at the
 * start of a text-format line is an invalid metric name; in a
 * protobuf-delimited body it announces a message longer than what follows;
 * after or inside a gzip member it corrupts the stream.
 */
const POISON = Buffer.from('\n{');

/**
 * The request body, passed through chunk by chunk. If the client goes away
 * before sending all of it, the body sent upstream ends in POISON instead.
 * Why: Node ends an aborted request's stream like a finished one, and
 * Pushgateway accepts a body cut at a line boundary, so forwarding the cut
 * body (or just closing the connection) would apply a truncated push. A
 * poisoned body is rejected whole (400) and nothing is written.
 */
async function* completeBody(req: IncomingMessage): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of req) yield chunk as Buffer;
  } catch {
    // The client's connection broke; fall through to the poison.
  }
  if (!req.complete) yield POISON;
}
