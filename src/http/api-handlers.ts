/**
 * shardgate's own API: inspection (/api/v1/shards, /status, /sd), the merged
 * read (/api/v1/metrics) and the admin calls. Each handler is small: gather,
 * answer. Answers use Pushgateway's envelope {"status":"success","data":...}.
 */
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { type HttpContext } from './http-context.js';
import { sendJson, sendText } from './respond.js';
import { mergeGroups, type ShardRead } from '../read/merge-groups.js';
import { errorMessage } from '../upstream/upstream-error.js';
import { ShardgateError } from './errors.js';
import { toSortedRecord } from '../groupingkey/grouping-key.js';

export function handleShards(ctx: HttpContext, res: ServerResponse): void {
  const data = ctx.shards().map((s) => ({
    target: s.target,
    health: s.health,
    in_ring: s.inRing,
    draining: s.draining,
    drain: s.drain,
    unmovable_groups: s.unmovable.map((u) => ({ grouping_key: toSortedRecord(u.key), reason: u.reason })),
    last_check: s.lastCheck,
    last_check_duration_seconds: s.lastCheckDurationSeconds,
    last_error: s.lastError,
    // What the membership source says about it: listed or leaving (pending, held, draining, refused), and its labels.
    source: ctx.source.target(s.target) ?? null,
  }));
  // Beside the list (as group_counts in /api/v1/metrics): the source's own state.
  sendJson(res, 200, { status: 'success', data, membership: ctx.source.status() });
}

export function handleSd(ctx: HttpContext, res: ServerResponse): void {
  const stale = ctx.discoveryStale?.();
  // Prometheus keeps the targets of its last successful refresh when one fails: better than a stale list.
  if (stale !== undefined) return sendText(res, 503, stale);
  sendJson(res, 200, ctx.discovery());
}

export function handleStatus(ctx: HttpContext, res: ServerResponse): void {
  const routing = ctx.routing();
  sendJson(res, 200, {
    status: 'success',
    data: {
      build_information: ctx.build,
      flags: ctx.flags,
      start_time: ctx.startTime.toISOString(),
      mode: routing.mode,
      ring: { algorithm: 'rendezvous', members: routing.ring.members, pending_moves: routing.overrides.size },
      shards: ctx.shards(),
      membership: ctx.source.status(),
      ...(ctx.replicas === undefined ? {} : { replicas: ctx.replicas() }),
    },
  });
}

export async function handleMergedMetrics(ctx: HttpContext, res: ServerResponse): Promise<void> {
  // Every healthy shard, not only ring members: a draining shard still holds groups until it is empty.
  const members = ctx.membership.statuses().filter((s) => s.health === 'up').map((s) => s.target);
  const results = await Promise.allSettled(members.map((t) => ctx.client.listGroups(t, ctx.readTimeoutMs())));
  const reads: ShardRead[] = [];
  const warnings: string[] = [];
  results.forEach((r, i) => {
    const target = members[i] ?? '';
    if (r.status === 'fulfilled') reads.push({ target, groups: r.value });
    else warnings.push(`shard ${target} could not be read: ${errorMessage(r.reason)}`);
  });
  const merged = mergeGroups(reads);
  // Beside Pushgateway's shape (clients ignore extra keys): how many groups each shard read holds.
  const groupCounts = Object.fromEntries(reads.map((r) => [r.target, r.groups.length]));
  sendJson(res, 200, { status: 'success', data: merged.data, group_counts: groupCounts, ...(warnings.length > 0 ? { warnings } : {}) });
}

export async function handleWipe(ctx: HttpContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  requireAdmin(ctx, req);
  const targets = ctx.membership.statuses().map((s) => s.target);
  const results = await Promise.allSettled(targets.map((t) => ctx.client.wipe(t, ctx.readTimeoutMs())));
  const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${targets[i] ?? ''}: ${errorMessage(r.reason)}`] : []));
  ctx.logger.warn({ shards: targets.length, failed: failed.length }, 'admin wipe fanned out to every shard');
  ctx.afterWipe?.();
  if (failed.length > 0) sendText(res, 502, `wipe failed on ${failed.length} of ${targets.length} shards: ${failed.join('; ')}`);
  else {
    res.writeHead(202, { 'content-length': 0 });
    res.end();
  }
}

export function requireAdmin(ctx: HttpContext, req: IncomingMessage): void {
  if (!ctx.flags.enableAdminApi) {
    throw new ShardgateError('SHARDGATE_NOT_FOUND', `admin API is disabled (start with --web.enable-admin-api): ${req.method ?? ''} ${req.url ?? ''}`);
  }
}
