/**
 * The standby half of a push (replication): every PUT, POST and DELETE the
 * owner acknowledged is sent to the group's standby before the client gets
 * its answer. The push path calls `mirror` inside the router's send
 * callback, i.e. under the group's shared lock, so a restore (which takes
 * the exclusive lock) never interleaves with it.
 *
 * Rules:
 * - PUT/POST go to the standbys in the group's rendezvous order until one
 *   answers 2xx (a down first standby costs one failed attempt, then the
 *   next one holds the group).
 * - DELETE goes to every standby at once (a copy a fallback write left on a
 *   later standby must not come back) and counts as mirrored when at least
 *   one confirmed; the group is also remembered as deleted here, so a
 *   restore never puts it back from a standby that missed the delete.
 * - When no standby takes the write, `mirror` throws SHARDGATE_NO_STANDBY
 *   (503): the owner has the write, but it is not acknowledged, because
 *   acknowledging it would break the one promise replication makes. The
 *   client retries (PUT and DELETE are idempotent; a POST re-sent merges the
 *   same samples again).
 *
 * It also keeps, per group, the sequence number of the last write it
 * mirrored: the restore skips a group written since it read the standbys.
 */
import { type GroupingKey, groupId, shardKey } from '../groupingkey/grouping-key.js';
import { ShardgateError } from '../http/errors.js';
import { type Metrics } from '../telemetry/metrics.js';
import { standbyOrder } from './standby-order.js';

export type MirroredMethod = 'PUT' | 'POST' | 'DELETE';

/** One request to one standby; resolves with its status (any status), rejects when it could not be exchanged. */
export type StandbySend = (standby: string, method: MirroredMethod, path: string, body: Buffer | null, headers: Record<string, string>) => Promise<{ readonly statusCode: number }>;

export interface StandbyWriterDeps {
  readonly standbys: () => readonly string[];
  readonly send: StandbySend;
  readonly metrics: Metrics;
}

export class StandbyWriter {
  readonly #deps: StandbyWriterDeps;
  #sequence = 0;
  /** groupId → the last write mirrored (attempted) and whether it was a DELETE. */
  readonly #last = new Map<string, { readonly seq: number; readonly deleted: boolean }>();

  constructor(deps: StandbyWriterDeps) {
    this.#deps = deps;
  }

  /** The sequence number of the latest write mirrored so far; a restore reads it before reading the standbys. */
  get sequence(): number {
    return this.#sequence;
  }

  /** Whether a restore that read the standbys at `seq` must leave the group alone: written since, or deleted by a client. */
  writtenSince(id: string, seq: number): boolean {
    const last = this.#last.get(id);
    return last !== undefined && (last.seq > seq || last.deleted);
  }

  /** Call with the group's lock held (shared, as the push path holds it; exclusive for expiry deletes). */
  async mirror(method: MirroredMethod, key: GroupingKey, path: string, body: Buffer | null, headers: Record<string, string>): Promise<void> {
    const id = groupId(key);
    this.#last.set(id, { seq: ++this.#sequence, deleted: method === 'DELETE' });
    const order = standbyOrder(shardKey(key), this.#deps.standbys());
    const attempt = (standby: string): Promise<boolean> =>
      this.#deps.send(standby, method, path, body, headers).then(
        (a) => a.statusCode >= 200 && a.statusCode < 300,
        () => false,
      );
    let took: number;
    if (method === 'DELETE') {
      const results = await Promise.all(order.map(attempt));
      results.forEach((ok, i) => {
        if (!ok) this.#deps.metrics.standbyFailures.inc({ standby: order[i] ?? '' });
      });
      took = results.findIndex((ok) => ok);
    } else {
      took = -1;
      for (let i = 0; i < order.length && took < 0; i++) {
        if (await attempt(order[i] ?? '')) took = i;
        else this.#deps.metrics.standbyFailures.inc({ standby: order[i] ?? '' });
      }
    }
    this.#deps.metrics.standbyWrites.inc({ result: took === 0 ? 'ok' : took > 0 ? 'fallback' : 'failed' });
    if (took < 0) {
      throw new ShardgateError('SHARDGATE_NO_STANDBY', `the owner took the ${method} but no standby pushgateway did (replication is on): not acknowledged; retry`);
    }
  }
}
