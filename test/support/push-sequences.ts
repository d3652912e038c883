/**
 * Random pushes for the consistency differential test: PUT/POST/DELETE over
 * a few grouping keys, bodies drawn from a small pool of family names whose
 * types, HELP, label sets and series collide often; text or protobuf,
 * sometimes gzip, sometimes a timestamp or a parse error. Seeded: the same
 * seed gives the same sequence.
 */
import { gzipSync } from 'node:zlib';
import { SeededRandom } from './seeded-random.js';
import { PROTOBUF_CONTENT_TYPE, delimited, encodeFamily, type FamilyType } from './metric-family-protobuf.js';

export interface RandomPush {
  readonly method: 'PUT' | 'POST' | 'DELETE';
  readonly path: string;
  readonly body: Buffer;
  readonly headers: Record<string, string>;
  /** What was pushed, for a failure message. */
  readonly text: string;
}

/** Grouping keys as URL suffixes; two of them expose identical series ({job=a} and {job=a,instance=""}). */
const KEYS = ['/job/a', '/job/a/instance/i1', '/job/a/instance/i2', '/job/b', '/job/b/tag/x', '/job/c/instance/i1', '/job/d', '/job/e/instance/i3'];
/** {job=a, instance=""}: same series as {job=a}, so pushing it beside /job/a poisons a checked store (rare on purpose). */
const POISON_KEY = '/job/a/instance@base64/=';

/** name -> types it may be pushed with (more than one: type conflicts). */
const FAMILIES: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['m_total', ['counter', 'counter', 'counter', 'counter', 'gauge']],
  ['m_gauge', ['gauge']],
  ['m_gauge', ['gauge']],
  ['m_plain', ['untyped', 'untyped', 'untyped', 'gauge']],
  ['lat', ['histogram', 'histogram', 'histogram', 'summary']],
  ['lat_count', ['untyped']],
  ['lat_sum', ['gauge']],
  ['go_goroutines', ['gauge', 'gauge', 'gauge', 'counter']],
  ['go_gc_duration_seconds_sum', ['gauge']],
  ['sz', ['summary']],
  ['sz', ['summary']],
  ['sz_bucket', ['untyped']],
  ['h_free', ['histogram']],
  ['u_free', ['untyped']],
];

const LABEL_SETS: ReadonlyArray<Record<string, string>> = [{}, {}, {}, { tag: 'x' }, { tag: 'y' }, { tag: 'z' }, { tag: 'x' }, { tag: 'y' }, { instance: 'i1' }, { job: 'other' }, { tag: 'x', instance: 'i2' }, { code: 'a\\"b\\nc' }];

export function randomPush(rnd: SeededRandom): RandomPush {
  const roll = rnd.next();
  const method = roll < 0.12 ? 'DELETE' : roll < 0.56 ? 'PUT' : 'POST';
  const path = `/metrics${rnd.next() < 0.01 ? POISON_KEY : rnd.pick(KEYS as [string, ...string[]])}`;
  if (method === 'DELETE') return { method, path, body: Buffer.alloc(0), headers: {}, text: '' };
  const families = new Map<string, { type: string; help: string | undefined; series: Array<Record<string, string>> }>();
  const count = rnd.int(3) + (method === 'PUT' && rnd.next() < 0.1 ? 0 : 1);
  for (let i = 0; i < count; i++) {
    const [name, types] = rnd.pick(FAMILIES as [readonly [string, readonly string[]], ...Array<readonly [string, readonly string[]]>]);
    const type = rnd.pick(types as [string, ...string[]]);
    // Mostly distinct label sets; a repeat (or one the grouping labels overwrite into another) is a duplicate series.
    const drawn = Array.from({ length: 1 + rnd.int(2) }, () => rnd.pick(LABEL_SETS as [Record<string, string>, ...Array<Record<string, string>>]));
    const series = rnd.next() < 0.05 ? drawn : [...new Map(drawn.map((l) => [JSON.stringify(l), l])).values()];
    families.set(name, { type, help: rnd.next() < 0.5 ? undefined : rnd.pick(['help one', 'help two \\\\ with \\n escapes']), series });
  }
  const timestamp = rnd.next() < 0.03;
  const simple = [...families.values()].every((f) => ['counter', 'gauge', 'untyped'].includes(f.type));
  let body: Buffer;
  let text: string;
  const headers: Record<string, string> = {};
  if (simple && !timestamp && rnd.next() < 0.3) {
    const messages = [...families].map(([name, f]) =>
      encodeFamily({ name, type: f.type.toUpperCase() as FamilyType, ...(f.help === undefined ? {} : { help: f.help.replaceAll('\\\\', '\\').replaceAll('\\n', '\n') }), metrics: f.series.map((labels) => ({ labels: unescaped(labels), value: rnd.int(100) })) }),
    );
    body = delimited(messages);
    headers['content-type'] = PROTOBUF_CONTENT_TYPE;
    text = `protobuf ${JSON.stringify([...families])}`;
  } else {
    text = '';
    for (const [name, f] of families) {
      if (f.help !== undefined) text += `# HELP ${name} ${f.help}\n`;
      text += `# TYPE ${name} ${f.type}\n`;
      for (const labels of f.series) text += sampleLines(name, f.type, labels, rnd, timestamp);
    }
    if (rnd.next() < 0.02) text = text.slice(0, -1); // no final newline: a parse error
    if (rnd.next() < 0.02) text += `# TYPE ${families.keys().next().value ?? 'x'} gauge\n`; // a second TYPE line
    body = Buffer.from(text);
  }
  if (rnd.next() < 0.2) {
    body = gzipSync(body);
    headers['content-encoding'] = 'gzip';
  }
  return { method, path, body, headers, text };
}

function sampleLines(name: string, type: string, labels: Record<string, string>, rnd: SeededRandom, timestamp: boolean): string {
  const ts = timestamp ? ' 1700000000000' : '';
  const v = (): number => rnd.int(100);
  const with_ = (extra: Record<string, string>): string => {
    const all = { ...labels, ...extra };
    const pairs = Object.entries(all).map(([k, val]) => `${k}="${val}"`);
    return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
  };
  if (type === 'histogram') return `${name}_bucket${with_({ le: '1' })} ${v()}\n${name}_bucket${with_({ le: '+Inf' })} ${v()}\n${name}_count${with_({})} ${v()}\n${name}_sum${with_({})} ${v()}${ts}\n`;
  if (type === 'summary') return `${name}${with_({ quantile: '0.5' })} ${v()}\n${name}_count${with_({})} ${v()}\n${name}_sum${with_({})} ${v()}${ts}\n`;
  return `${name}${with_({})} ${rnd.pick(['1', 'NaN', '+Inf', '-Inf', '2.5e3'])}${ts}\n`;
}

/** The text-format escapes in LABEL_SETS, undone for protobuf. */
function unescaped(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, v.replace(/\\(["\\n])/g, (_m, c: string) => (c === 'n' ? '\n' : c))]));
}
