/**
 * Seeded fuzzing of push bodies through shardgate to two real pushgateways:
 * random and mutated protobuf (huge and cut length prefixes, inflated nested
 * lengths, random bytes), text (huge label counts, huge lines, binary
 * junk, cut lines), each possibly gzipped, plus gzip bombs and broken gzip.
 *
 * For every body, an oracle written independently of src/ says whether
 * shardgate must refuse it (decoded size over the limit, broken gzip, bad
 * protobuf framing). Refused: 400/413 and no pushgateway's push handler ran.
 * Otherwise: exactly one pushgateway handled it. Each body goes to its own
 * group, deleted afterwards (a sequence of odd pushes to one group can leave
 * 1.5.1's store unable to serve /metrics, which is not what this test is about). After every batch both
 * pushgateways are alive, healthy and serve their whole /metrics; at the end their peak memory is small.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync, gunzipSync } from 'node:zlib';
import { startPushgateways, type TestPushgateway } from '../support/pushgateway.js';
import { startShardgate, type Shardgate } from '../support/shardgate.js';
import { rawRequest } from '../support/raw-request.js';
import { pushesHandled, isHealthy, peakRss, servesMetrics } from '../support/pushgateway-stats.js';
import { PROTOBUF_CONTENT_TYPE, delimited, encodeFamily, varint, type FamilyType } from '../support/metric-family-protobuf.js';
import { SeededRandom } from '../support/seeded-random.js';

const SEED = 20_240_601;
const BODIES = 300;
const BATCH = 50;
const LIMIT = 256 * 1024;

let pgs: TestPushgateway[] = [];
let sg: Shardgate;
before(async () => {
  pgs = await startPushgateways(2);
  sg = await startShardgate({ config: `targets: [${pgs.map((p) => `"${p.target}"`).join(', ')}]\nlimits: { max_body_size: ${LIMIT} }\n`, waitReady: true });
});
after(async () => {
  await sg?.stop();
  await Promise.all(pgs.map((p) => p.stop()));
});

interface Case {
  readonly kind: string;
  readonly body: Buffer;
  readonly headers: Record<string, string>;
}

const NAMES: [string, ...string[]] = ['fz_a', 'fz_b_total', 'fz_c', 'up', 'push_time_seconds', '', 'fz-bad', 'fz_d'];
const TYPES: [FamilyType, ...FamilyType[]] = ['COUNTER', 'GAUGE', 'UNTYPED'];
const PROTOBUF_TYPES: [string, ...string[]] = [PROTOBUF_CONTENT_TYPE, 'APPLICATION/VND.GOOGLE.PROTOBUF; proto=io.prometheus.client.MetricFamily; encoding=delimited', 'application/vnd.google.protobuf', ' application/vnd.google.protobuf ; encoding=delimited'];

function family(r: SeededRandom): Buffer {
  const metrics = Array.from({ length: r.int(4) }, () => ({ labels: r.next() < 0.5 ? { l: r.pick(['x', 'y', '']) } : undefined, value: r.int(1000) }));
  return encodeFamily({ name: r.pick(NAMES), type: r.pick(TYPES), metrics });
}

function protobufBody(r: SeededRandom): { kind: string; body: Buffer } {
  const messages = Array.from({ length: 1 + r.int(3) }, () => family(r));
  const good = delimited(messages);
  switch (r.int(9)) {
    case 0:
      return { kind: 'pb-valid', body: good };
    case 1:
      return { kind: 'pb-flip', body: Buffer.from(good.map((b, i) => (i === r.int(good.length) ? r.int(256) : b))) };
    case 2:
      return { kind: 'pb-truncated', body: good.subarray(0, r.int(good.length)) };
    case 3:
      return { kind: 'pb-appended', body: Buffer.concat([good, r.bytes(1 + r.int(8))]) };
    case 4: // a huge (up to 2^35 - 1) or 6-byte prefix after the good messages
      return { kind: 'pb-huge-prefix', body: Buffer.concat([good, r.next() < 0.8 ? Buffer.from([0xff, 0xff, 0xff, 0xff, r.int(128)]) : Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01])]) };
    case 5: { // a nested length (the family name's) inflated, outer framing kept consistent
      const inner = Buffer.concat([Buffer.from([0x0a]), varint(2 ** 31 + r.int(2 ** 20)), r.bytes(r.int(16))]);
      return { kind: 'pb-nested-length', body: delimited([...messages, inner]) };
    }
    case 6: { // deeply nested unknown group fields inside a message
      const depth = 1 + r.int(20_000);
      const inner = Buffer.concat([Buffer.alloc(depth, 0x7b), Buffer.alloc(depth, 0x7c)]); // field 15 start/end group
      return { kind: 'pb-nested-groups', body: inner.length > LIMIT ? good : delimited([inner]) };
    }
    case 7: // many empty Metric entries in one family: cheap bytes, costly structs
      return { kind: 'pb-many-metrics', body: delimited([Buffer.concat([Buffer.from([0x0a, 0x04]), Buffer.from('fz_m'), Buffer.alloc(2 * r.int(LIMIT / 64), 0).fill(Buffer.from([0x22, 0x00]))])]) };
    default:
      return { kind: 'pb-random', body: r.bytes(r.int(64)) };
  }
}

function textBody(r: SeededRandom): { kind: string; body: Buffer } {
  switch (r.int(6)) {
    case 0:
      return { kind: 'text-valid', body: Buffer.from(`# TYPE fz_t gauge\nfz_t{a="1"} ${r.int(100)}\nfz_u ${r.next()}\n`) };
    case 1: {
      const n = 1 + r.int(2000);
      const labels = Array.from({ length: n }, (_, i) => `l${i}="v"`).join(',');
      return { kind: 'text-many-labels', body: Buffer.from(`fz_many{${labels}} 1\n`) };
    }
    case 2:
      return { kind: 'text-long-line', body: Buffer.from(`fz_long{a="${'x'.repeat(r.int(LIMIT))}"} 1\n`) };
    case 3:
      return { kind: 'text-junk', body: r.bytes(r.int(256)) };
    case 4:
      return { kind: 'text-cut', body: Buffer.from('fz_cut{a="1",b="2"} 3\nfz_cut2 4\n').subarray(0, r.int(30)) };
    default:
      return { kind: 'text-oversized', body: Buffer.alloc(LIMIT + 1 + r.int(1000), 0x0a) };
  }
}

function nextCase(r: SeededRandom): Case {
  const proto = r.next() < 0.6;
  const base = proto ? protobufBody(r) : textBody(r);
  const headers: Record<string, string> = proto ? { 'content-type': r.pick(PROTOBUF_TYPES) } : {};
  const g = r.next();
  if (g < 0.25) return { kind: `${base.kind}+gzip`, body: gzipSync(base.body), headers: { ...headers, 'content-encoding': 'gzip' } };
  if (g < 0.28) return { kind: 'gzip-bomb', body: gzipSync(Buffer.alloc(LIMIT * (2 + r.int(10)), 0x0a)), headers: { ...headers, 'content-encoding': 'gzip' } };
  if (g < 0.31) return { kind: `${base.kind}+gzip-cut`, body: gzipSync(base.body).subarray(0, 5 + r.int(20)), headers: { ...headers, 'content-encoding': 'gzip' } };
  return { kind: base.kind, body: base.body, headers };
}

/** The oracle: must shardgate refuse this body? Independent of src/. */
function mustRefuse(c: Case): boolean {
  let plain = c.body;
  if (c.headers['content-encoding'] === 'gzip') {
    try {
      plain = gunzipSync(c.body, { maxOutputLength: LIMIT });
    } catch {
      return true; // broken, or more than the limit once decoded
    }
  }
  if (plain.length > LIMIT) return true;
  const type = c.headers['content-type'];
  return type !== undefined && (!framingHolds(plain) || hasBadFamilyName(plain));
}

/** A family whose top-level fields parse and whose name is not a legacy metric name (or absent). */
function hasBadFamilyName(body: Buffer): boolean {
  for (const message of splitFramed(body)) {
    const fields = topLevelFields(message);
    if (fields === undefined) continue;
    const names = fields.filter((f) => f.number === 1 && f.bytes !== undefined);
    const name = names.length === 0 ? '' : (names[names.length - 1]?.bytes ?? Buffer.alloc(0)).toString('utf8');
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) return true;
  }
  return false;
}

function splitFramed(body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < body.length; ) {
    const [length, used] = readVarint(body, at) ?? [0, 0];
    out.push(body.subarray(at + used, at + used + length));
    at += used + length;
  }
  return out;
}

function readVarint(b: Buffer, at: number): [number, number] | undefined {
  let v = 0n;
  for (let i = 0; i < 10 && at + i < b.length; i++) {
    const byte = b[at + i] ?? 0;
    v |= BigInt(byte & 0x7f) << BigInt(7 * i);
    if (byte < 0x80) return [Number(v), i + 1];
  }
  return undefined;
}

/** Fields of one message, or undefined if a group, an unknown wire type or a cut field shows up. */
function topLevelFields(m: Buffer): Array<{ number: number; bytes?: Buffer }> | undefined {
  const fields: Array<{ number: number; bytes?: Buffer }> = [];
  let at = 0;
  while (at < m.length) {
    const key = readVarint(m, at);
    if (key === undefined) return undefined;
    at += key[1];
    const wire = key[0] & 7;
    const number = Math.floor(key[0] / 8);
    if (wire === 0) {
      const v = readVarint(m, at);
      if (v === undefined) return undefined;
      at += v[1];
      fields.push({ number });
    } else if (wire === 1 || wire === 5) {
      at += wire === 1 ? 8 : 4;
      fields.push({ number });
    } else if (wire === 2) {
      const len = readVarint(m, at);
      if (len === undefined || at + len[1] + len[0] > m.length) return undefined;
      fields.push({ number, bytes: m.subarray(at + len[1], at + len[1] + len[0]) });
      at += len[1] + len[0];
    } else {
      return undefined;
    }
  }
  return at === m.length ? fields : undefined;
}

/** Delimited framing, read with BigInt: each prefix ≤ 5 bytes, within the limit and the body. */
function framingHolds(body: Buffer): boolean {
  let at = 0;
  while (at < body.length) {
    let length = 0n;
    let used = 0;
    for (;;) {
      const byte = body[at + used];
      if (byte === undefined || used === 5) return false;
      length |= BigInt(byte & 0x7f) << BigInt(7 * used);
      used++;
      if ((byte & 0x80) === 0) break;
    }
    const end = BigInt(at + used) + length;
    if (length > BigInt(LIMIT) || end > BigInt(body.length)) return false;
    at = Number(end);
  }
  return true;
}

async function handledByAll(): Promise<number> {
  let n = 0;
  for (const pg of pgs) n += await pushesHandled(pg.url);
  return n;
}

test(`${BODIES} fuzzed push bodies: refused exactly when they must be, forwarded otherwise, pushgateways stay up`, async (t) => {
  const r = new SeededRandom(SEED);
  const seen = new Map<string, { refused: number; forwarded: number }>();
  let handled = await handledByAll();
  for (let i = 0; i < BODIES; i++) {
    const c = nextCase(r);
    const refuse = mustRefuse(c);
    const method = r.pick(['PUT', 'POST']);
    // One group per body, deleted after it: each body meets an empty store.
    const path = `/metrics/job/fuzz/instance/i${i}`;
    const res = await rawRequest(sg.url, method, path, c.body, c.headers);
    const now = await handledByAll();
    await rawRequest(sg.url, 'DELETE', path);
    const what = `body #${i} (${c.kind}, ${c.body.length} bytes, ${JSON.stringify(c.headers)}): ${res.status} ${res.body.slice(0, 200)}`;
    if (refuse) {
      assert.ok(res.status === 400 || res.status === 413, `must be refused: ${what}`);
      assert.equal(now, handled, `must not be forwarded: ${what}`);
    } else {
      assert.equal(now, handled + 1, `must be forwarded once: ${what}`);
    }
    handled = now;
    const tally = seen.get(c.kind) ?? { refused: 0, forwarded: 0 };
    tally[refuse ? 'refused' : 'forwarded']++;
    seen.set(c.kind, tally);
    if ((i + 1) % BATCH === 0) {
      for (const pg of pgs) {
        assert.ok(await isHealthy(pg.url, pg.pid), `pushgateway ${pg.target} must be up after body #${i}`);
        assert.ok(await servesMetrics(pg.url), `pushgateway ${pg.target} must serve its whole /metrics after body #${i}`);
      }
    }
  }
  const peaks = await Promise.all(pgs.map((pg) => peakRss(pg.pid)));
  t.diagnostic(`by kind (refused/forwarded): ${[...seen].map(([k, v]) => `${k} ${v.refused}/${v.forwarded}`).join(', ')}`);
  t.diagnostic(`pushgateway peak RSS: ${peaks.map((b) => `${(b / 2 ** 20).toFixed(0)} MiB`).join(', ')}`);
  for (const peak of peaks) assert.ok(peak < 512 * 2 ** 20, `peak RSS ${peak} bytes`);
});
