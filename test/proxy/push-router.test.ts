/**
 * The push router's handling of writes in doubt (a PUT or POST whose answer
 * never came): kept, completed before the group's next POST and by
 * completeInDoubt(), superseded by an acknowledged PUT or DELETE. The
 * observer below keeps the in-doubt writes in the real InDoubtWrites store
 * and records what the router reports, as the Coordinator would.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PushRouter, type WriteObserver, type PushMethod } from '../../src/proxy/push-router.js';
import { GroupLocks } from '../../src/rebalance/group-locks.js';
import { InDoubtWrites, type InDoubtWrite } from '../../src/rebalance/in-doubt-writes.js';
import { buildRing } from '../../src/ring/rendezvous-ring.js';
import { ShardgateError } from '../../src/http/errors.js';

import { groupId, sortedKey } from '../../src/groupingkey/grouping-key.js';

const KEY = sortedKey({ job: 'batch', instance: 'a' });
const TIMEOUT = new ShardgateError('SHARDGATE_UPSTREAM_TIMEOUT', 'pushgateway did not answer in time', true);

class RecordingObserver implements WriteObserver {
  readonly store = new InDoubtWrites({ maxEntries: 10, maxBytes: 1000 });
  readonly acknowledged: string[] = [];
  readonly settled: string[] = [];
  writeBegins(): void {}
  writeEnds(id: string, _key: unknown, target: string, method: PushMethod, ack: boolean): void {
    if (!ack) return;
    this.acknowledged.push(`${method} ${target}`);
    if (method !== 'POST') this.store.forget(id);
  }
  deleteFanOut(): [] {
    return [];
  }
  deleteMissed(): void {}
  /** What the ledger would say stands before a POST on the target, until the copy is deleted. */
  blocker: 'stale' | 'older' | undefined = undefined;
  beforePost(): 'stale' | 'older' | undefined {
    return this.blocker;
  }
  staleCopyDeleted(): void {
    this.blocker = undefined;
  }
  writeInDoubt(id: string, write: InDoubtWrite): void {
    this.store.remember(id, write);
  }
  inDoubt(id: string): InDoubtWrite | undefined {
    return this.store.get(id);
  }
  inDoubtIds(): readonly string[] {
    return this.store.ids();
  }
  inDoubtSettled(id: string, result: 'completed' | 'rejected' | 'superseded'): void {
    if (this.store.get(id) === undefined) return;
    this.settled.push(result);
    this.store.forget(id);
  }
}

function setup(): { router: PushRouter; observer: RecordingObserver; locks: GroupLocks; sent: string[] } {
  const locks = new GroupLocks();
  const observer = new RecordingObserver();
  const sent: string[] = [];
  const ring = buildRing(['pg1:9091']);
  const router = new PushRouter({
    locks,
    routing: () => ({ ring, overrides: new Map() }),
    observer,
    deleteOn: async (target) => void sent.push(`DELETE ${target}`),
    inDoubt: (err) => err instanceof ShardgateError && err.inDoubt,
  });
  return { router, observer, locks, sent };
}

/** A push whose send fails with `fail` (or succeeds), and whose later re-send answers `resendStatus` (or throws it). */
function push(s: ReturnType<typeof setup>, method: PushMethod, body: string, opts: { fail?: Error; resendStatus?: number | Error } = {}): Promise<{ statusCode: number }> {
  const resend = async (target: string): Promise<{ statusCode: number }> => {
    if (opts.resendStatus instanceof Error) throw opts.resendStatus;
    s.sent.push(`resend ${method} ${body} ${target}`);
    return { statusCode: opts.resendStatus ?? 200 };
  };
  return s.router.route(
    method,
    KEY,
    async (target) => {
      if (opts.fail) throw opts.fail;
      s.sent.push(`${method} ${body} ${target}`);
      return { statusCode: 200 };
    },
    method === 'DELETE' ? undefined : { resend, bytes: body.length },
  );
}

test('a PUT whose answer never came is re-sent before the group’s next POST', async () => {
  const s = setup();
  await assert.rejects(push(s, 'PUT', 'v1', { fail: TIMEOUT }), TIMEOUT);
  assert.equal(s.observer.store.size, 1);
  await push(s, 'POST', 'v2');
  assert.deepEqual(s.sent, ['resend PUT v1 pg1:9091', 'POST v2 pg1:9091']);
  assert.deepEqual(s.observer.settled, ['completed']);
  assert.equal(s.observer.store.size, 0);
});

test('an acknowledged PUT supersedes the write in doubt: it is never re-sent', async () => {
  const s = setup();
  await assert.rejects(push(s, 'POST', 'v1', { fail: TIMEOUT }));
  await push(s, 'PUT', 'v2');
  await push(s, 'POST', 'v3');
  await s.router.completeInDoubt();
  assert.deepEqual(s.sent, ['PUT v2 pg1:9091', 'POST v3 pg1:9091']);
});

test('a POST that cannot complete the earlier write in doubt is refused, and nothing of it is sent', async () => {
  const s = setup();
  await assert.rejects(push(s, 'PUT', 'v1', { fail: TIMEOUT, resendStatus: TIMEOUT }));
  await assert.rejects(push(s, 'POST', 'v2'), (err: unknown) => err instanceof ShardgateError && err.code === 'SHARDGATE_EARLIER_PUSH_IN_DOUBT');
  // The POST's own send was never called; the PUT is still kept.
  assert.deepEqual(s.sent, []);
  assert.equal(s.observer.store.size, 1);
});

test('a write the pushgateway refuses on completion (4xx) is settled as rejected and the POST goes on', async () => {
  const s = setup();
  await assert.rejects(push(s, 'PUT', 'v1', { fail: TIMEOUT, resendStatus: 400 }));
  await push(s, 'POST', 'v2');
  assert.deepEqual(s.observer.settled, ['rejected']);
  assert.deepEqual(s.sent, ['resend PUT v1 pg1:9091', 'POST v2 pg1:9091']);
});

test('a later write in doubt that cannot be re-sent (a DELETE) drops the earlier one: completing it would reorder them', async () => {
  const s = setup();
  await assert.rejects(push(s, 'POST', 'v1', { fail: TIMEOUT }));
  await assert.rejects(push(s, 'DELETE', '', { fail: TIMEOUT }));
  await s.router.completeInDoubt();
  assert.deepEqual(s.sent, []);
  assert.equal(s.observer.store.size, 0);
});

test('a POST whose target holds a copy older than the group deletes it first; a PUT does not need to', async () => {
  const s = setup();
  s.observer.blocker = 'stale';
  await push(s, 'PUT', 'v1');
  assert.deepEqual(s.sent, ['PUT v1 pg1:9091']);
  await push(s, 'POST', 'v2');
  assert.deepEqual(s.sent, ['PUT v1 pg1:9091', 'DELETE pg1:9091', 'POST v2 pg1:9091']);
});

test('a POST that would land on an older base while the newest content is elsewhere is refused (503) and not sent', async () => {
  const s = setup();
  s.observer.blocker = 'older';
  await assert.rejects(push(s, 'POST', 'v1'), (err: unknown) => err instanceof ShardgateError && err.code === 'SHARDGATE_GROUP_RECONCILING');
  assert.deepEqual(s.sent, []);
});

test('a failure that is not in doubt (refused, rejected) is not kept', async () => {
  const s = setup();
  await assert.rejects(push(s, 'PUT', 'v1', { fail: new ShardgateError('SHARDGATE_UPSTREAM_UNREACHABLE', 'refused') }));
  assert.equal(s.observer.store.size, 0);
});

test('completeInDoubt waits for a client write of the group in flight, then re-sends', async () => {
  const s = setup();
  await assert.rejects(push(s, 'POST', 'v1', { fail: TIMEOUT }));
  // A client write of the group holds its shared lock while completion is asked for.
  const id = groupId(KEY);
  const wait = s.locks.acquireShared(id);
  if (wait) await wait;
  const completion = s.router.completeInDoubt();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(s.sent, [], 'no re-send while the client write holds the group');
  s.locks.releaseShared(id);
  await completion;
  assert.deepEqual(s.sent, ['resend POST v1 pg1:9091']);
  assert.deepEqual(s.observer.acknowledged, ['POST pg1:9091']);
});

test('the store keeps the latest write of a group and stays within its bounds', () => {
  const store = new InDoubtWrites({ maxEntries: 2, maxBytes: 100 });
  const w = (bytes: number): InDoubtWrite => ({ key: KEY, method: 'PUT', bytes, resend: async () => ({ statusCode: 200 }) });
  store.remember('a', w(10));
  store.remember('a', w(20));
  assert.equal(store.size, 1);
  store.remember('b', w(10));
  store.remember('c', w(10));
  assert.deepEqual(store.ids(), ['b', 'c'], 'the oldest goes first beyond maxEntries');
  store.remember('d', w(95));
  assert.deepEqual(store.ids(), ['d'], 'and beyond maxBytes');
  store.remember('e', w(101));
  assert.equal(store.get('e'), undefined, 'a body over the whole bound is not kept');
  assert.equal(store.forgotten, 4);
});

test('completeInDoubt tries a shard that fails once per pass, not once per write kept for it', async () => {
  const s = setup();
  let resends = 0;
  for (const instance of ['a', 'b', 'c']) {
    const key = sortedKey({ job: 'batch', instance });
    await assert.rejects(
      s.router.route('PUT', key, async () => Promise.reject(TIMEOUT), {
        bytes: 1,
        resend: async () => {
          resends++;
          throw TIMEOUT;
        },
      }),
    );
  }
  assert.equal(s.observer.store.size, 3);
  await s.router.completeInDoubt();
  assert.equal(resends, 1);
  assert.equal(s.observer.store.size, 3, 'all still kept for the next pass');
});
