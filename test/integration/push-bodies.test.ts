/**
 * Push bodies shardgate must refuse before they reach a pushgateway: a
 * protobuf length prefix Pushgateway would allocate blindly (4 GiB), bodies
 * over limits.max_body_size (plain, chunked, gzip bombs, streamed text) and
 * corrupt gzip, and protobuf families whose names would break /metrics. Good protobuf and gzip pushes still land. Every refusal is
 * checked on the real pushgateway: its push handler never ran, it is up.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { startPushgateway, type TestPushgateway } from '../support/pushgateway.js';
import { startShardgate, type Shardgate } from '../support/shardgate.js';
import { findGroup, familyNames, sampleValue } from '../support/pushgateway-api.js';
import { rawRequest } from '../support/raw-request.js';
import { pushesHandled, isHealthy, servesMetrics } from '../support/pushgateway-stats.js';
import { PROTOBUF_CONTENT_TYPE, delimited, encodeFamily } from '../support/metric-family-protobuf.js';

const LIMIT = 2 * 1024 * 1024;
let pg: TestPushgateway;
let sg: Shardgate;

before(async () => {
  pg = await startPushgateway();
  sg = await startShardgate({ config: `targets: ["${pg.target}"]\nlimits: { max_body_size: 2MiB }\n`, waitReady: true });
});
after(async () => {
  await sg?.stop();
  await pg?.stop();
});

const protobuf = { 'content-type': PROTOBUF_CONTENT_TYPE };
const gzipped = { 'content-encoding': 'gzip' };

async function push(path: string, body: Buffer | string, headers: Record<string, string> = {}, method = 'PUT'): Promise<{ status: number; text: string }> {
  const res = await rawRequest(sg.url, method, path, body, headers);
  return { status: res.status, text: res.body };
}
/** No content-length: only counting the bytes can find the size. */
const chunked = { 'transfer-encoding': 'chunked' };

/** Runs `send`, and asserts it was refused with `status` and that the pushgateway never saw it. */
async function refused(status: number, message: RegExp, send: () => Promise<{ status: number; text: string }>): Promise<void> {
  const before = await pushesHandled(pg.url);
  const res = await send();
  assert.equal(res.status, status, res.text);
  assert.match(res.text, message);
  assert.equal(await pushesHandled(pg.url), before, 'the pushgateway must not have seen the push');
  assert.ok(await isHealthy(pg.url, pg.pid));
}

test('a 4 GiB length prefix (plain or gzipped) gets 400 and never reaches the pushgateway', async () => {
  const prefix = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]);
  await refused(400, /announces 4294967295 bytes, more than the body limit of 2097152 bytes/, () => push('/metrics/job/bomb', prefix, protobuf));
  await refused(400, /announces 4294967295 bytes/, () => push('/metrics/job/bomb', gzipSync(prefix), { ...protobuf, ...gzipped }, 'POST'));
  // A good message followed by the bad prefix: nothing of it is forwarded either.
  const good = delimited([encodeFamily({ name: 'ok_total', type: 'COUNTER', metrics: [{ value: 1 }] })]);
  await refused(400, /message at byte \d+ announces 4294967295 bytes/, () => push('/metrics/job/bomb', Buffer.concat([good, prefix]), protobuf));
  // Cut short, or a sixth varint byte: Pushgateway's own reasons, refused here first.
  await refused(400, /but only 3 follow/, () => push('/metrics/job/bomb', good.subarray(0, 4), protobuf));
  await refused(400, /invalid varint32/, () => push('/metrics/job/bomb', Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), protobuf));
});

test('protobuf families with an empty or invalid name are refused: they would cut or break /metrics for every group', async () => {
  for (const name of ['', 'a-b']) {
    const body = delimited([encodeFamily({ name, type: 'GAUGE', metrics: [{ value: 1 }] })]);
    await refused(400, new RegExp(`invalid metric name ${JSON.stringify(name)} in the protobuf message at byte 0`), () => push('/metrics/job/names', body, protobuf));
  }
  assert.ok(await servesMetrics(pg.url));
});

test('good protobuf and gzip pushes land, decoded once', async () => {
  const families = [
    encodeFamily({ name: 'pb_jobs_total', help: 'Jobs.', type: 'COUNTER', metrics: [{ labels: { kind: 'a' }, value: 3 }, { labels: { kind: 'b' }, value: 4 }] }),
    encodeFamily({ name: 'pb_last_success', type: 'GAUGE', metrics: [{ value: 1234.5 }] }),
  ];
  assert.equal((await push('/metrics/job/pb/instance/plain', delimited(families), protobuf)).status, 200);
  assert.equal((await push('/metrics/job/pb/instance/gz', gzipSync(delimited(families)), { ...protobuf, ...gzipped })).status, 200);
  assert.equal((await push('/metrics/job/pb/instance/text', gzipSync('text_gauge 7\n'), { 'content-encoding': 'GZIP' })).status, 200);
  for (const instance of ['plain', 'gz']) {
    const group = await findGroup(pg.url, { job: 'pb', instance });
    assert.deepEqual(familyNames(group), ['pb_jobs_total', 'pb_last_success']);
    assert.equal(sampleValue(group, 'pb_last_success'), '1234.5');
  }
  assert.equal(sampleValue(await findGroup(pg.url, { job: 'pb', instance: 'text' }), 'text_gauge'), '7');
});

test('bodies over limits.max_body_size get 413: declared, chunked, gzip bombs, streamed text; the group is unchanged', async () => {
  assert.equal((await push('/metrics/job/big', 'kept 1\n')).status, 200);
  const tooBig = Buffer.alloc(LIMIT + 1, 0x0a);
  await refused(413, /request body too large \(limit 2097152 bytes\)/, () => push('/metrics/job/big', tooBig));
  await refused(413, /request body too large/, () => push('/metrics/job/big', tooBig, protobuf));
  await refused(413, /request body too large/, () => push('/metrics/job/big', tooBig, { ...protobuf, ...chunked }));
  const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x0a));
  await refused(413, /request body too large \(limit 2097152 bytes after gzip decompression\)/, () => push('/metrics/job/big', bomb, gzipped));

  // Text over 1 MiB streams through; cut at the limit it is rejected upstream and answered 413.
  let text = '';
  for (let i = 0; text.length <= LIMIT; i++) text += `streamed_metric_${i} ${i}\n`;
  const res = await push('/metrics/job/big', text, chunked);
  assert.equal(res.status, 413, res.text);
  assert.deepEqual(familyNames(await findGroup(pg.url, { job: 'big' })), ['kept']);
  assert.ok(await isHealthy(pg.url, pg.pid));
});

test('corrupt gzip gets 400 with the decoder\'s reason', async () => {
  await refused(400, /^gzip: incorrect header check/, () => push('/metrics/job/gz', 'not gzip at all', gzipped));
  await refused(400, /^gzip: unexpected end of file/, () => push('/metrics/job/gz', gzipSync('a 1\n').subarray(0, 15), gzipped));
});
