/**
 * `--web.route-prefix` and `--web.external-url`, as Pushgateway has them:
 * the prefix defaults to the external URL's path; "/" means none; any other
 * prefix starts, and does not end, with "/". Every route (push paths, API,
 * /metrics, health, the status page) lives under the prefix.
 */
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { sendRedirect, sendText } from '../http/respond.js';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Pushgateway's computeRoutePrefix. */
export function computeRoutePrefix(routePrefix: string | undefined, externalUrl: URL | undefined): string {
  let prefix = routePrefix === undefined || routePrefix === '' ? (externalUrl?.pathname ?? '') : routePrefix;
  if (prefix === '/') prefix = '';
  return prefix === '' ? '' : `/${prefix.replace(/^\/+|\/+$/g, '')}`;
}

/**
 * Strips the prefix from `req.url` before `handler` routes it. Outside the
 * prefix: `/` redirects to the prefix (for people typing the bare address),
 * everything else is 404, as in Pushgateway.
 */
export function withRoutePrefix(prefix: string, handler: RequestHandler): RequestHandler {
  if (prefix === '') return handler;
  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const query = q === -1 ? '' : url.slice(q);
    if (path.startsWith(`${prefix}/`)) {
      req.url = url.slice(prefix.length);
      return handler(req, res);
    }
    req.resume();
    if ((path === prefix || path === '/') && (req.method === 'GET' || req.method === 'HEAD')) return sendRedirect(res, path === prefix ? 301 : 302, `${prefix}/${query}`);
    sendText(res, 404, '404 page not found');
  };
}
