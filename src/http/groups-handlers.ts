/**
 * `GET|DELETE /api/v1/groups?match[]=<selector>...`: list, or delete
 * (admin API), the groups whose grouping labels match any selector.
 */
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { type HttpContext } from './http-context.js';
import { sendJson } from './respond.js';
import { ShardgateError } from './errors.js';
import { requireAdmin } from './api-handlers.js';
import { parseSelector, SelectorError, type Selector } from '../expiry/selector.js';

export async function handleGroups(ctx: HttpContext, req: IncomingMessage, res: ServerResponse, method: string, query: string): Promise<void> {
  if (method === 'DELETE') requireAdmin(ctx, req);
  const selectors = parseMatchParams(query);
  if (method === 'DELETE') {
    const result = await ctx.groups.delete(selectors);
    ctx.metrics.bulkDeleted.inc({ result: 'deleted' }, result.total.deleted);
    ctx.metrics.bulkDeleted.inc({ result: 'skipped' }, result.total.skipped);
    ctx.metrics.bulkDeleted.inc({ result: 'gone' }, result.total.gone);
    ctx.metrics.bulkDeleted.inc({ result: 'failed' }, result.total.failed);
    ctx.logger.warn({ match: selectors.map((s) => s.text).join(' or '), ...result.total }, 'bulk delete by matchers');
    sendJson(res, 200, { status: 'success', data: { ...result.total, shards: result.shards }, ...(result.warnings.length > 0 ? { warnings: result.warnings } : {}) });
    return;
  }
  const { data, warnings } = await ctx.groups.list(selectors);
  sendJson(res, 200, { status: 'success', data, ...(warnings.length > 0 ? { warnings } : {}) });
}

/** Every `match[]` parameter, parsed; at least one is required (as in Prometheus' series API). */
export function parseMatchParams(query: string): Selector[] {
  const texts = new URLSearchParams(query).getAll('match[]');
  if (texts.length === 0) throw new ShardgateError('SHARDGATE_BAD_REQUEST', 'no match[] parameter provided');
  try {
    return texts.map(parseSelector);
  } catch (err) {
    if (err instanceof SelectorError) throw new ShardgateError('SHARDGATE_BAD_REQUEST', err.message);
    throw err;
  }
}
