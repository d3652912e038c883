/**
 * One in-memory pushgateway: groups by grouping key (empty values
 * included, as groupId), PUT/POST/DELETE with Pushgateway's semantics (see
 * group-content.ts), `push_time_seconds` from the shard's own clock
 * (virtual time plus a fixed skew), and the JSON API's group shape.
 *
 * Process states, as the network sees them:
 * - up: a request is applied when it arrives, in arrival order.
 * - paused (SIGSTOP): requests are held; on resume they are applied in
 *   arrival order and answered (their callers have usually given up: the
 *   late, in-doubt writes).
 * - dead (SIGKILL): connections are refused; held requests are reset
 *   without being applied; the store is kept (persistence file) and comes
 *   back on restart.
 */
import { type ApiGroup, type ApiFamily } from '../../src/upstream/metrics-api.js';
import { groupId, type GroupingKey } from '../../src/groupingkey/grouping-key.js';
import { applyWrite, formatGoFloat, parseBody, toApiFamily, type Content } from './group-content.js';

export type ShardState = 'up' | 'paused' | 'dead';

export type ShardRequest =
  | { readonly kind: 'health' }
  | { readonly kind: 'list' }
  | { readonly kind: 'write'; readonly method: 'PUT' | 'POST'; readonly path: string; readonly body: string }
  | { readonly kind: 'delete'; readonly path: string };

/** `reset`: the connection broke before an answer (the request was not applied). */
export type ShardAnswer = { readonly status: number; readonly groups?: ApiGroup[] } | 'reset';

export interface StoredGroup {
  readonly key: GroupingKey;
  readonly content: Content;
  /** push_time_seconds, from this shard's clock. */
  readonly pushTime: number;
  /** RFC 3339 time of the write that last set each family. */
  readonly stamps: ReadonlyMap<string, string>;
}

/** Unix time (ms) that virtual time 0 stands for. */
export const EPOCH_MS = Date.UTC(2026, 0, 1);

const PUSH_TIME_HELP = 'Last Unix time when changing this group in the Pushgateway succeeded.';
const PUSH_FAILURE_HELP = 'Last Unix time when changing this group in the Pushgateway failed.';

export class SimPushgateway {
  readonly name: string;
  readonly #groups = new Map<string, StoredGroup>();
  readonly #held: Array<{ readonly req: ShardRequest; readonly reply: (a: ShardAnswer) => void }> = [];
  readonly #now: () => number;
  readonly #skewMs: number;
  #state: ShardState = 'up';
  /** Bumped on every change of the store (writes, deletes, plants). */
  version = 0;
  /** Called after every applied write, with the group as stored (undefined: deleted). */
  onWrite: (id: string, key: GroupingKey, stored: StoredGroup | undefined) => void = () => undefined;

  /** @param now virtual time in ms; @param skewMs this shard's clock error. */
  constructor(name: string, now: () => number, skewMs: number) {
    this.name = name;
    this.#now = now;
    this.#skewMs = skewMs;
  }

  get state(): ShardState {
    return this.#state;
  }

  /** Groups by groupId (read-only view, for invariants). */
  get groups(): ReadonlyMap<string, StoredGroup> {
    return this.#groups;
  }

  /** False when the connection is refused (dead); else `reply` is called now or on resume. */
  receive(req: ShardRequest, reply: (a: ShardAnswer) => void): boolean {
    if (this.#state === 'dead') return false;
    if (this.#state === 'paused') this.#held.push({ req, reply });
    else reply(this.#apply(req));
    return true;
  }

  pause(): void {
    if (this.#state === 'up') this.#state = 'paused';
  }

  resume(): void {
    if (this.#state !== 'paused') return;
    this.#state = 'up';
    for (const { req, reply } of this.#held.splice(0)) reply(this.#apply(req));
  }

  kill(): void {
    this.#state = 'dead';
    for (const { reply } of this.#held.splice(0)) reply('reset');
  }

  /** Comes back with its store; `oldCopies` replace what it holds of those groups (an old persistence file). */
  restart(oldCopies: readonly StoredGroup[] = []): void {
    if (this.#state !== 'dead') return;
    for (const g of oldCopies) this.plant(g);
    this.#state = 'up';
  }

  /** Puts a copy in the store directly, as a client pushing around shardgate or a failover would. */
  plant(g: StoredGroup): void {
    this.version++;
    this.#groups.set(groupId(g.key), g);
  }

  pushTimeNow(): number {
    return (EPOCH_MS + this.#now() + this.#skewMs) / 1000;
  }

  #apply(req: ShardRequest): { status: number; groups?: ApiGroup[] } {
    switch (req.kind) {
      case 'health':
        return { status: 200 };
      case 'list':
        return { status: 200, groups: [...this.#groups.values()].map((g) => apiGroup(g)) };
      case 'delete': {
        const key = keyOfPath(req.path);
        const id = groupId(key);
        if (this.#groups.delete(id)) {
          this.version++;
          this.onWrite(id, key, undefined);
        }
        return { status: 202 };
      }
      case 'write': {
        const key = keyOfPath(req.path);
        let body: Content;
        try {
          body = parseBody(req.body, key);
        } catch {
          return { status: 400 };
        }
        const id = groupId(key);
        const before = this.#groups.get(id);
        const stamp = new Date(EPOCH_MS + this.#now() + this.#skewMs).toISOString();
        const stamps = new Map(req.method === 'PUT' || before === undefined ? [] : before.stamps);
        for (const name of body.keys()) stamps.set(name, stamp);
        const stored: StoredGroup = { key, content: applyWrite(before?.content, req.method, body), pushTime: this.pushTimeNow(), stamps };
        this.#groups.set(id, stored);
        this.version++;
        this.onWrite(id, key, stored);
        return { status: 200 };
      }
    }
  }
}

/** The group as `GET /api/v1/metrics` shows it. */
export function apiGroup(g: StoredGroup): ApiGroup {
  const labels: Record<string, string> = { ...g.key };
  const seriesLabels: Record<string, string> = 'instance' in labels ? { ...labels } : { ...labels, instance: '' };
  const stamp = new Date(g.pushTime * 1000).toISOString();
  const families: Record<string, ApiFamily> = {};
  for (const [name, family] of g.content) families[name] = toApiFamily(family, g.stamps.get(name) ?? stamp);
  families['push_time_seconds'] = { time_stamp: stamp, type: 'GAUGE', help: PUSH_TIME_HELP, metrics: [{ labels: seriesLabels, value: formatGoFloat(g.pushTime) }] };
  families['push_failure_time_seconds'] = { time_stamp: stamp, type: 'GAUGE', help: PUSH_FAILURE_HELP, metrics: [{ labels: seriesLabels, value: '0' }] };
  return { labels, last_push_successful: true, ...families };
}

/** The grouping key of a push path as upstreamPath writes it (`name/value` or `name@base64/value`). */
export function keyOfPath(path: string): GroupingKey {
  const parts = path.split('/').slice(2);
  const key: Record<string, string> = {};
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const seg = parts[i] ?? '';
    const raw = parts[i + 1] ?? '';
    if (seg.endsWith('@base64')) key[seg.slice(0, -'@base64'.length)] = raw === '=' ? '' : Buffer.from(raw.replace(/=+$/, ''), 'base64url').toString('utf8');
    else key[seg] = decodeURIComponent(raw);
  }
  const job = key['job'];
  if (job === undefined || job === '') throw new Error(`sim pushgateway: no job in ${path}`);
  return Object.freeze({ ...key, job });
}
