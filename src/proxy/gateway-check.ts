/**
 * `push.consistency_check: gateway`: every PUT/POST is parsed and checked
 * against the fleet index before anything is forwarded (index/).
 *
 * Ordering: checks and index updates are synchronous, so no two checks
 * interleave in this process and two concurrent pushes can never both pass
 * a conflicting pair. Pushes to the same group are further serialised from
 * the check to the shard's answer, so they reach the pushgateway in the
 * order they were checked (it queues a push before answering 202).
 *
 * Per process: replicas of shardgate do not share their index yet.
 */
import { groupId, type GroupingKey } from '../groupingkey/grouping-key.js';
import { parsePush } from '../exposition/parse-push.js';
import { TextParseError } from '../exposition/text-parser.js';
import { ProtobufDecodeError } from '../exposition/protobuf-decoder.js';
import { type ParsedPush } from '../exposition/metric-family.js';
import { admitPush, type Verdict } from '../index/consistency-check.js';
import { formatKey } from '../index/series.js';
import { type IndexSync } from '../index/index-sync.js';
import { ShardgateError } from '../http/errors.js';

/**
 * What a rejected push leaves on its shard: a checked pushgateway stamps
 * the group's push_failure_time_seconds (creating the group if missing).
 * A pushgateway with its check off does exactly that for a push carrying
 * a timestamp (checkWriteRequest fails, setPushFailedTimestamp runs), and
 * answers 202; so this body, POSTed, keeps `push_failure_time_seconds >
 * push_time_seconds` alerts working. Its content is never stored.
 */
export const FAILURE_STAMP_BODY = Buffer.from('shardgate_rejected_push 1 1\n');

export class GatewayCheck {
  readonly #sync: IndexSync;
  readonly #queues = new Map<string, Promise<void>>();

  constructor(sync: IndexSync) {
    this.#sync = sync;
  }

  /** @throws ShardgateError SHARDGATE_PUSH_REJECTED with Pushgateway's parse error. */
  parse(body: Uint8Array, contentType: string | undefined): ParsedPush {
    try {
      return parsePush(body, contentType);
    } catch (err) {
      if (err instanceof TextParseError || err instanceof ProtobufDecodeError) throw new ShardgateError('SHARDGATE_PUSH_REJECTED', err.message);
      throw err;
    }
  }

  /** Runs `fn` after every earlier push to the same group finished; resolves with its result. */
  async inGroupOrder<T>(key: GroupingKey, fn: () => Promise<T>): Promise<T> {
    await this.#sync.ready;
    const id = groupId(key);
    const before = this.#queues.get(id) ?? Promise.resolve();
    let done!: () => void;
    const mine = new Promise<void>((resolve) => (done = resolve));
    const tail = before.then(() => mine);
    this.#queues.set(id, tail);
    await before;
    try {
      return await fn();
    } finally {
      done();
      if (this.#queues.get(id) === tail) this.#queues.delete(id);
    }
  }

  admit(method: 'PUT' | 'POST', key: GroupingKey, push: ParsedPush): Verdict {
    this.#sync.touched(groupId(key));
    return admitPush(this.#sync.index, method, key, push);
  }

  /** The group was deleted (acknowledged by its shard). */
  deleted(key: GroupingKey): void {
    const id = groupId(key);
    this.#sync.touched(id);
    this.#sync.index.setGroup(id, undefined);
  }

  rejection(verdict: Extract<Verdict, { accepted: false }>, shardOf: (key: GroupingKey) => string | undefined): ShardgateError {
    const other = verdict.conflictingGroup;
    const where = other === undefined ? '' : ` (conflicts with group ${formatKey(other)} on shard ${shardOf(other) ?? 'unknown'})`;
    return new ShardgateError('SHARDGATE_PUSH_REJECTED', verdict.message + where);
  }
}
