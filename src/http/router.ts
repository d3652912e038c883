/**
 * The route table. Push paths (/metrics/job...) are parsed exactly as
 * Pushgateway parses them and only a valid key ever reaches proxy/; every
 * other path is shardgate's own and never forwarded.
 */
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { routePushPath, type PushRoute } from '../groupingkey/push-path.js';
import { percentDecodeBytes, serveMuxRedirect } from '../groupingkey/clean-path.js';
import { shardKey, toSortedRecord } from '../groupingkey/grouping-key.js';
import { pushTarget } from '../proxy/push-target.js';
import { type HttpContext } from './http-context.js';
import { ShardgateError, toHttpError } from './errors.js';
import { sendJson, sendRedirect, sendText } from './respond.js';
import { sendStaticAsset, sendStatusPage } from '../ui/status-page.js';
import { handleGroups } from './groups-handlers.js';
import { handleMergedMetrics, handleSd, handleShards, handleStatus, handleWipe, requireAdmin } from './api-handlers.js';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

export function createRouter(ctx: HttpContext): RequestHandler {
  return (req, res) => {
    route(ctx, req, res).catch((err: unknown) => {
      const { status, message } = toHttpError(err);
      if (status >= 500 && !(err instanceof ShardgateError)) ctx.logger.error({ err, url: req.url }, 'request failed');
      if (!res.headersSent) {
        // An oversized body is not drained: the connection closes after the answer.
        if (status === 413) res.setHeader('connection', 'close');
        sendText(res, status, message);
      }
      else res.destroy();
      // A request body we never read must not stall the connection.
      if (!req.complete) req.resume();
    });
  };
}

async function route(ctx: HttpContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const query = q === -1 ? '' : url.slice(q + 1);
  const method = req.method ?? 'GET';

  // Go refuses a URL with a bad %-escape before routing, whatever the path and method.
  if (BAD_ESCAPE.test(path)) throw new ShardgateError('SHARDGATE_BAD_REQUEST', '400 Bad Request: invalid URL escape');
  if (asciiLowerStartsWith(path, '/metrics/')) return pushPath(ctx, req, res, method, path, q === -1 ? undefined : query);
  // Go's ServeMux, in front of everything in Pushgateway: unclean paths get a 301.
  const redirect = serveMuxRedirect(percentDecodeBytes(path), q === -1 ? undefined : query, true);
  if (redirect !== undefined) return redirectTo(ctx, res, 301, redirect);
  if (path.startsWith('/static/')) return allow(method, ['GET', 'HEAD'], () => sendStaticAsset(res, path.slice('/static/'.length)));
  switch (path) {
    case '/':
      return allow(method, ['GET', 'HEAD'], () => sendStatusPage(res));
    case '/metrics':
      return allow(method, ['GET', 'HEAD'], () => ownMetrics(ctx, res));
    case '/-/healthy':
      return sendText(res, 200, 'OK');
    case '/-/ready': {
      const notReady = ctx.notReady?.();
      if (notReady !== undefined) return sendText(res, 503, notReady);
      return ctx.routing().ring.members.length > 0 ? sendText(res, 200, 'OK') : sendText(res, 503, 'no healthy pushgateway in the ring');
    }
    case '/-/reload':
      return allow(method, ['POST', 'PUT'], () => reload(ctx, req, res));
    case '/-/quit':
      return allow(method, ['POST', 'PUT'], () => quit(ctx, res));
    case '/api/v1/shards':
      return allow(method, ['GET'], () => handleShards(ctx, res));
    case '/api/v1/status':
      return allow(method, ['GET'], () => handleStatus(ctx, res));
    case '/api/v1/sd':
      return allow(method, ['GET'], () => handleSd(ctx, res));
    case '/api/v1/metrics':
      return allow(method, ['GET'], () => handleMergedMetrics(ctx, res));
    case '/api/v1/groups':
      return allow(method, ['GET', 'DELETE'], () => handleGroups(ctx, req, res, method, query));
    case '/api/v1/admin/wipe':
      return allow(method, ['PUT'], () => handleWipe(ctx, req, res));
    case '/api/v1/admin/drain':
      return allow(method, ['POST', 'DELETE'], () => drain(ctx, req, res, method, query));
    default:
      return sendText(res, 404, '404 page not found');
  }
}

async function pushPath(ctx: HttpContext, req: IncomingMessage, res: ServerResponse, method: string, path: string, query: string | undefined): Promise<void> {
  if (!PUSH_METHODS.has(method) && method !== 'GET' && method !== 'HEAD') return otherMethod(ctx, res, path, query);
  const r = routePushPath(path, query);
  if (r.kind === 'not-found') return sendText(res, 404, '404 page not found');
  if (r.kind === 'redirect') return redirectTo(ctx, res, r.status, r.location);
  if (r.kind === 'fix') return PUSH_METHODS.has(method) ? redirectTo(ctx, res, 307, r.location) : sendText(res, 404, '404 page not found');
  switch (method) {
    case 'PUT':
    case 'POST':
    case 'DELETE':
      if (ctx.shuttingDown()) throw new ShardgateError('SHARDGATE_SHUTTING_DOWN', 'shardgate is shutting down');
      return ctx.proxy.handle(req, res, method, r.key);
    case 'GET':
    case 'HEAD': {
      // The original system's lookup, as JSON: where a push of this key goes now
      // (`shard`), and its owner on the ring (differs only while the group waits to move).
      const routing = ctx.routing();
      const shard = pushTarget(routing, r.key);
      const owner = routing.ring.owner(shardKey(r.key));
      // With expiry configured: the group's rule and when it expires (null: never, or its push time is not known yet).
      const expiry = ctx.expiry(r.key);
      const expiryView =
        expiry === undefined
          ? {}
          : {
              expiry: {
                rule: expiry.rule?.name ?? null,
                max_age_seconds: expiry.rule === undefined ? null : expiry.rule.maxAgeMs / 1000,
                last_push: expiry.expiresAtMs === undefined || expiry.rule === undefined ? null : new Date(expiry.expiresAtMs - expiry.rule.maxAgeMs).toISOString(),
                expires_at: expiry.expiresAtMs === undefined ? null : new Date(expiry.expiresAtMs).toISOString(),
              },
            };
      return sendJson(res, shard === undefined ? 503 : 200, { grouping_key: toSortedRecord(r.key), shard: shard ?? null, owner: owner ?? null, ...expiryView });
    }
    default:
      throw new ShardgateError('SHARDGATE_METHOD_NOT_ALLOWED', 'Method Not Allowed');
  }
}

const PUSH_METHODS = new Set(['PUT', 'POST', 'DELETE']);
const BAD_ESCAPE = /%(?![0-9A-Fa-f]{2})/;

/**
 * Pushgateway routes by path pattern before it parses the key: a method
 * without push routes gets 405 on any path the pattern matches, valid key or
 * not, and 404 where only a fix-up would have matched.
 */
function otherMethod(ctx: HttpContext, res: ServerResponse, path: string, query: string | undefined): void {
  let r: PushRoute | undefined;
  try {
    r = routePushPath(path, query);
  } catch {
    // A key Pushgateway would refuse still matched its route pattern.
  }
  if (r?.kind === 'redirect') return redirectTo(ctx, res, r.status, r.location);
  if (r === undefined || r.kind === 'key') throw new ShardgateError('SHARDGATE_METHOD_NOT_ALLOWED', 'Method Not Allowed');
  sendText(res, 404, '404 page not found');
}

/** Locations are paths from the root; under a route prefix (stripped before routing), they keep it. */
function redirectTo(ctx: HttpContext, res: ServerResponse, status: number, location: string): void {
  sendRedirect(res, status, ctx.flags.routePrefix + location);
}

export function asciiLowerStartsWith(path: string, prefix: string): boolean {
  return path.length >= prefix.length && path.slice(0, prefix.length).replace(/[A-Z]/g, (c) => c.toLowerCase()) === prefix;
}

async function ownMetrics(ctx: HttpContext, res: ServerResponse): Promise<void> {
  const body = await ctx.metrics.registry.metrics();
  res.writeHead(200, { 'content-type': ctx.metrics.registry.contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function reload(ctx: HttpContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  requireLifecycle(ctx);
  req.resume();
  await ctx.reload();
  sendText(res, 200, 'OK');
}

function quit(ctx: HttpContext, res: ServerResponse): void {
  requireLifecycle(ctx);
  sendText(res, 200, 'Requesting termination... Goodbye!');
  ctx.quit();
}

async function drain(ctx: HttpContext, req: IncomingMessage, res: ServerResponse, method: string, query: string): Promise<void> {
  requireAdmin(ctx, req);
  const target = new URLSearchParams(query).get('target');
  if (!target) throw new ShardgateError('SHARDGATE_BAD_REQUEST', 'missing ?target=host:port');
  if (!ctx.drain) throw new ShardgateError('SHARDGATE_NOT_FOUND', 'drain needs the rebalancer, which is disabled');
  const state: unknown = await ctx.drain(target, method === 'POST');
  if (state === undefined) throw new ShardgateError('SHARDGATE_UNKNOWN_TARGET', `unknown target ${target}`);
  sendJson(res, 202, { status: 'success', data: state });
}

/** Prometheus' answer when the lifecycle API is off. */
function requireLifecycle(ctx: HttpContext): void {
  if (!ctx.flags.enableLifecycle) throw new ShardgateError('SHARDGATE_FORBIDDEN', 'Lifecycle API is not enabled.');
}

async function allow(method: string, allowed: readonly string[], handler: () => void | Promise<void>): Promise<void> {
  if (!allowed.includes(method)) throw new ShardgateError('SHARDGATE_METHOD_NOT_ALLOWED', 'Method Not Allowed');
  await handler();
}
