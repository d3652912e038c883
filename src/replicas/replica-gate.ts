/**
 * Where a write that reached this replica is carried out (docs/replicas.md):
 * - the leader carries out every write itself;
 * - a follower pushes (PUT/POST) straight to the shards only while the ring
 *   it acknowledged and the newest one it read both say `direct`, and its
 *   session is valid; the pre-send check in the push router (LocalWrites)
 *   enforces that again at the last moment;
 * - everything else is forwarded to the leader: pushes while the fleet is
 *   fenced, every DELETE (its fan-out's misses are facts the leader's copy
 *   ledger must learn), and admin writes under /api/v1/ (drain, bulk
 *   delete, wipe), which are the leader's decisions.
 * Reads (GET, HEAD) and this replica's own lifecycle (/-/reload, /-/quit)
 * are always served here.
 */
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { ShardgateError, toHttpError } from '../http/errors.js';
import { sendText } from '../http/respond.js';
import { asciiLowerStartsWith } from '../http/router.js';
import { FORWARDED_BY, type LeaderForward } from './leader-forward.js';
import { type ReplicaSession } from './replica-session.js';
import { type ReplicaMetrics } from './replica-metrics.js';

type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface ReplicaGateDeps {
  readonly session: ReplicaSession;
  /** Whether this replica may carry out a client push itself (ReplicaNode.mayPushDirectly). */
  readonly mayPushDirectly: () => boolean;
  readonly forward: LeaderForward;
  readonly metrics: ReplicaMetrics;
}

export type WriteRoute = { readonly kind: 'local' } | { readonly kind: 'forward'; readonly leader: string; readonly url: string };

export class ReplicaGate {
  readonly #deps: ReplicaGateDeps;

  constructor(deps: ReplicaGateDeps) {
    this.#deps = deps;
  }

  /** Throws ShardgateError when the write can be carried out nowhere. */
  route(method: string, path: string, forwardedBy: string | undefined): WriteRoute {
    const { session } = this.#deps;
    if (session.leading()) return { kind: 'local' };
    if (forwardedBy !== undefined) {
      throw new ShardgateError('SHARDGATE_NOT_LEADER', `replica ${session.self.id} is not the leader (any more); retry`);
    }
    if (method !== 'DELETE' && asciiLowerStartsWith(path, '/metrics/') && this.#deps.mayPushDirectly()) return { kind: 'local' };
    const leader = session.leader;
    if (leader === undefined || leader.id === session.self.id) {
      throw new ShardgateError('SHARDGATE_NO_LEADER', session.lastError === null ? 'no shardgate replica leads yet; retry' : `no leader known: the coordination store cannot be reached (${session.lastError}); retry`);
    }
    return { kind: 'forward', leader: leader.id, url: leader.url };
  }

  handler(inner: RequestHandler): RequestHandler {
    return (req, res) => {
      const method = req.method ?? 'GET';
      const url = req.url ?? '/';
      if (!isWrite(method, url)) return inner(req, res);
      let route: WriteRoute;
      try {
        route = this.route(method, url, header(req, FORWARDED_BY));
      } catch (err) {
        const { status, message } = toHttpError(err);
        this.#deps.metrics.forwarded.inc({ result: 'no_leader' });
        req.resume();
        return sendText(res, status, message);
      }
      if (route.kind === 'local') return inner(req, res);
      this.#deps.forward.forward(req, res, route.leader, route.url).then(
        () => this.#deps.metrics.forwarded.inc({ result: 'answered' }),
        (err: unknown) => {
          this.#deps.metrics.forwarded.inc({ result: 'unreachable' });
          const { status, message } = toHttpError(err);
          if (!res.headersSent) sendText(res, status, message);
          else res.destroy();
          if (!req.complete) req.resume();
        },
      );
    };
  }
}

function isWrite(method: string, url: string): boolean {
  if (method !== 'PUT' && method !== 'POST' && method !== 'DELETE') return false;
  // The router matches /metrics/ without regard to case (as Go's ServeMux redirect logic sees it).
  return asciiLowerStartsWith(url, '/metrics/') || url.startsWith('/api/v1/');
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
