/**
 * What the web config applies to every request before routing, as the
 * exporter-toolkit's handler does for every endpoint (push API, API,
 * /metrics, health checks, the status page): the configured response
 * headers, then basic auth when users are configured.
 */
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { type WebConfig } from './web-config.js';
import { type BasicAuth } from './basic-auth.js';
import { type RequestHandler } from './route-prefix.js';
import { ShardgateError, toHttpError } from '../http/errors.js';
import { sendText } from '../http/respond.js';

export function requestGate(current: () => WebConfig, auth: BasicAuth, handler: RequestHandler): RequestHandler {
  return (req, res) => {
    const config = current();
    for (const [name, value] of config.headers) res.setHeader(name, value);
    if (config.users.size === 0) return handler(req, res);
    const ok = auth.check(config.users, req.headers.authorization);
    if (ok === true) return handler(req, res);
    if (ok === false) return deny(req, res);
    void ok.then((passed) => (passed ? handler(req, res) : deny(req, res)));
  };
}

function deny(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  const { status, message } = toHttpError(new ShardgateError('SHARDGATE_UNAUTHORIZED', 'Unauthorized'));
  res.setHeader('www-authenticate', 'Basic');
  sendText(res, status, message);
}
