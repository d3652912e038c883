/**
 * What a pushgateway stores for one group, and how a push changes it: the
 * data model shared by the in-memory pushgateway and the reference model.
 *
 * Semantics follow PUSHGATEWAY.md: a text body (parsed with the test
 * parser, independent of src/rebalance/exposition.ts) becomes families of
 * metrics whose labels are the body's, overwritten by the grouping labels,
 * plus `instance=""` when missing. PUT replaces the group's families, POST
 * replaces only the families with the same names. Numbers are stored the
 * way the JSON API spells them (Go's fmt.Sprint), so a copy read from one
 * shard and rendered by groupToExposition round-trips exactly.
 *
 * Not modelled: the consistency check (the sim shards behave like
 * `--push.disable-consistency-check`, but answer 200 after applying).
 */
import { type ApiFamily, type ApiMetric, type ApiMetricType } from '../../src/upstream/metrics-api.js';
import { parseGoFloat } from '../../src/upstream/go-float.js';
import { parseTextFormat, type ParsedSample } from '../rebalance/text-format-parser.js';

/** A family as stored, without its time stamp. */
export interface StoredFamily {
  readonly type: ApiMetricType;
  readonly help: string;
  readonly metrics: readonly ApiMetric[];
}

/** A group's families by name (never push_time_seconds / push_failure_time_seconds). */
export type Content = ReadonlyMap<string, StoredFamily>;

export const EMPTY: Content = new Map();

/** Parses a text-format body pushed to the group `groupingLabels`. Throws on a body the parser rejects. */
export function parseBody(text: string, groupingLabels: Readonly<Record<string, string>>): Content {
  // The same body is parsed by the reference, the shard and again on every copy: remember the last few.
  const cacheKey = `${JSON.stringify(groupingLabels)}\u0000${text}`;
  const hit = parsed.get(cacheKey);
  if (hit !== undefined) return hit;
  const out = parseUncached(text, groupingLabels);
  if (parsed.size >= 256) parsed.clear();
  parsed.set(cacheKey, out);
  return out;
}

const parsed = new Map<string, Content>();

function parseUncached(text: string, groupingLabels: Readonly<Record<string, string>>): Content {
  const out = new Map<string, StoredFamily>();
  for (const family of parseTextFormat(text).values()) {
    if (family.samples.length === 0) continue;
    const type = (family.type ?? 'untyped').toUpperCase() as ApiMetricType;
    const metrics = type === 'SUMMARY' || type === 'HISTOGRAM' ? aggregate(family.name, type, family.samples, groupingLabels) : family.samples.map((s) => ({ labels: sanitize(s.labels, groupingLabels), value: fmt(s.value) }));
    out.set(family.name, { type, help: family.help ?? '', metrics });
  }
  return out;
}

/** The content after a write: PUT replaces everything, POST only same-named families. */
export function applyWrite(before: Content | undefined, method: 'PUT' | 'POST', body: Content): Content {
  if (method === 'PUT' || before === undefined) return body;
  const merged = new Map(before);
  for (const [name, family] of body) merged.set(name, family);
  return merged;
}

/** The JSON API's view of a family written at `timeStamp`. */
export function toApiFamily(family: StoredFamily, timeStamp: string): ApiFamily {
  return family.help === '' ? { time_stamp: timeStamp, type: family.type, metrics: family.metrics } : { time_stamp: timeStamp, type: family.type, help: family.help, metrics: family.metrics };
}

/**
 * One string per distinct content: families, types, HELP and samples, in a
 * fixed order. Two contents are equal exactly when their canonical strings are.
 */
export function canonical(content: Content): string {
  let c = canonicals.get(content);
  if (c === undefined) {
    c = render(content);
    canonicals.set(content, c);
  }
  return c;
}

/** Contents are immutable once built, so their canonical strings are cached. */
const canonicals = new WeakMap<Content, string>();

function render(content: Content): string {
  const families = [...content].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(families.map(([name, f]) => [name, f.type, f.help, f.metrics.map(canonicalMetric).sort()]));
}

/** A short, readable rendering for violation reports. */
export function describe(content: Content | undefined): string {
  if (content === undefined) return '(absent)';
  const parts = [...content].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, f]) => `${name}=${f.metrics.map((m) => m.value ?? m.sum ?? '?').join('/')}`);
  return `{${parts.join(' ')}}`;
}

/** Go's fmt.Sprint(float64), the spelling of every number in the JSON API. */
export function formatGoFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const [mantissa = '', exponent = '0'] = x.toExponential().split('e');
  const exp = Number(exponent);
  // Shortest formatting decides with precision 6 (strconv 'g', -1).
  if (exp < -4 || exp >= 6) return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return String(x);
}

function fmt(text: string): string {
  return formatGoFloat(parseGoFloat(text));
}

/** Sample counts are uint64 in the store: the text's float, truncated. */
function fmtCount(text: string): string {
  return String(Math.trunc(parseGoFloat(text)));
}

function sanitize(labels: Readonly<Record<string, string>>, grouping: Readonly<Record<string, string>>): Record<string, string> {
  const merged: Record<string, string> = { ...labels, ...grouping };
  if (!('instance' in merged)) merged['instance'] = '';
  const out: Record<string, string> = {};
  for (const name of Object.keys(merged).sort()) out[name] = merged[name] ?? '';
  return out;
}

interface Building {
  labels: Record<string, string>;
  quantiles: Record<string, string>;
  buckets: Record<string, string>;
  count: string;
  sum: string;
}

/** Summaries and histograms: one metric per label set, from its quantile/bucket, _sum and _count samples. */
function aggregate(name: string, type: 'SUMMARY' | 'HISTOGRAM', samples: readonly ParsedSample[], grouping: Readonly<Record<string, string>>): ApiMetric[] {
  const special = type === 'SUMMARY' ? 'quantile' : 'le';
  const byLabels = new Map<string, Building>();
  for (const s of samples) {
    const own = Object.fromEntries(Object.entries(s.labels).filter(([n]) => n !== special));
    const labels = sanitize(own, grouping);
    const sig = JSON.stringify(labels);
    let b = byLabels.get(sig);
    if (b === undefined) {
      b = { labels, quantiles: {}, buckets: {}, count: '0', sum: '0' };
      byLabels.set(sig, b);
    }
    const bound = s.labels[special];
    if (s.name === `${name}_sum`) b.sum = fmt(s.value);
    else if (s.name === `${name}_count`) b.count = fmtCount(s.value);
    else if (bound !== undefined && type === 'SUMMARY') b.quantiles[fmt(bound)] = fmt(s.value);
    else if (bound !== undefined) b.buckets[fmt(bound)] = fmtCount(s.value);
  }
  return [...byLabels.values()].map((b) =>
    type === 'SUMMARY' ? { labels: b.labels, quantiles: b.quantiles, count: b.count, sum: b.sum } : { labels: b.labels, buckets: b.buckets, count: b.count, sum: b.sum },
  );
}

function canonicalMetric(m: ApiMetric): string {
  const sortedMap = (r: Readonly<Record<string, string>> | undefined): Array<[string, string]> | null => (r === undefined ? null : Object.entries(r).sort(([a], [b]) => (a < b ? -1 : 1)));
  return JSON.stringify([sortedMap(m.labels), m.value ?? null, sortedMap(m.quantiles), sortedMap(m.buckets), m.count ?? null, m.sum ?? null]);
}
