/**
 * Renders a group read from Pushgateway's JSON API (`GET /api/v1/metrics`)
 * as Prometheus text exposition format 0.0.4, so that a PUT of the text to
 * the group's path (`upstreamPath(groupingKeyOf(group))`) on another
 * pushgateway recreates the group: same families, HELP, types, label sets
 * and values. Pure.
 *
 * Contract:
 * - Lossless or refuse: a group that cannot be reproduced exactly throws
 *   UnrenderableGroupError (nothing is half-rendered), so a caller that
 *   renders before writing never copies a damaged group.
 * - `push_time_seconds` and `push_failure_time_seconds` are never emitted:
 *   the target pushgateway writes its own.
 * - Values are passed through verbatim. Pushgateway spells every number as
 *   Go's `fmt.Sprint` does (`NaN`, `+Inf`, `-Inf`, `1e-300`,
 *   `1.7976931348623157e+308`), which is the shortest exact spelling and is
 *   what the text parser (Go's `strconv.ParseFloat`) reads back. Anything
 *   not spelled like a float is refused, so no value can inject a line.
 * - Deterministic: families sorted by name, samples by label set, label
 *   names sorted with `le`/`quantile` last (where Go's encoder puts them),
 *   buckets and quantiles sorted numerically with `+Inf` last. No timestamps
 *   (Pushgateway rejects pushed timestamps).
 * - Grouping labels are KEPT on every sample, as the source serves them.
 *   The text is then exactly the group's series (minus push_time), readable
 *   and diffable on its own; and it cannot change the outcome, because the
 *   target overwrites grouping labels with the values from the URL, which
 *   are the same values when the text is PUT to the group's own path.
 */
import { type ApiFamily, type ApiGroup, type ApiMetric, familiesOf, PUSHGATEWAY_OWN_FAMILIES } from '../upstream/metrics-api.js';
import { parseGoFloat } from '../upstream/go-float.js';

export { groupingKeyOf, pushTimeOf } from '../upstream/group-facts.js';

/** A group the text format cannot reproduce exactly; `message` says which family and why. */
export class UnrenderableGroupError extends Error {
  override readonly name = 'UnrenderableGroupError';
}

// Text format 0.0.4 knows only the legacy name syntax; a UTF-8 name (newer
// pushgateways accept them) has no spelling in it.
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
// What Go's fmt.Sprint prints for a float64.
const GO_FLOAT = /^(?:NaN|[+-]Inf|[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)$/;

export function groupToExposition(group: ApiGroup): string {
  const families = familiesOf(group)
    .filter(([name]) => !PUSHGATEWAY_OWN_FAMILIES.has(name))
    .sort(([a], [b]) => compareStrings(a, b));
  let out = '';
  for (const [name, family] of families) out += renderFamily(name, family);
  return out;
}

function renderFamily(name: string, family: ApiFamily): string {
  if (!METRIC_NAME.test(name)) fail(name, 'the name has no spelling in text format 0.0.4');
  // The text parser drops families without samples, and Pushgateway never
  // stores one; rendering nothing keeps both sides equal.
  if (family.metrics.length === 0) return '';
  const renderSamples = samplesRenderer(name, family);
  let out = '';
  if (family.help !== undefined && family.help !== '') out += `# HELP ${name} ${escapeHelp(name, family.help)}\n`;
  out += `# TYPE ${name} ${family.type.toLowerCase()}\n`;
  // The bucket/quantile label must not also be one of the metric's own labels.
  const reserved = family.type === 'SUMMARY' ? 'quantile' : family.type === 'HISTOGRAM' ? 'le' : undefined;
  const metrics = family.metrics.map((m) => ({ metric: m, labels: sortedLabels(name, m, reserved) }));
  metrics.sort((a, b) => compareStrings(signature(a.labels), signature(b.labels)));
  for (const { metric, labels } of metrics) out += renderSamples(metric, labels);
  return out;
}

type Labels = ReadonlyArray<readonly [string, string]>;
type SamplesRenderer = (metric: ApiMetric, labels: Labels) => string;

function samplesRenderer(name: string, family: ApiFamily): SamplesRenderer {
  switch (family.type) {
    case 'COUNTER':
    case 'GAUGE':
    case 'UNTYPED':
      return (m, labels) => sample(name, labels, float(name, 'value', m.value));
    case 'SUMMARY':
      return (m, labels) => renderSummary(name, m, labels);
    case 'HISTOGRAM':
      return (m, labels) => renderHistogram(name, m, labels);
    case 'GAUGE_HISTOGRAM':
      // Not mapped to `histogram`: Pushgateway's JSON API renders a gauge
      // histogram through its default branch as `value: "0"`, without
      // buckets, count or sum (api/v1/api.go, 1.5.1 and HEAD), so the data
      // to copy is not there; and 0.0.4 has no gauge-histogram type.
      return fail(name, 'the JSON API does not expose the buckets of a gauge histogram');
    default:
      return fail(name, `unknown metric type ${String(family.type)}`);
  }
}

function renderSummary(name: string, m: ApiMetric, labels: Labels): string {
  let out = '';
  for (const [q, v] of numericEntries(name, 'quantiles', m.quantiles)) {
    out += sample(name, labels, float(name, 'quantile value', v), ['quantile', q]);
  }
  out += sample(`${name}_sum`, labels, float(name, 'sum', m.sum));
  out += sample(`${name}_count`, labels, count(name, 'count', m.count));
  return out;
}

function renderHistogram(name: string, m: ApiMetric, labels: Labels): string {
  const total = count(name, 'count', m.count);
  const buckets = numericEntries(name, 'buckets', m.buckets);
  const last = buckets[buckets.length - 1];
  // A histogram pushed as protobuf may leave the +Inf bucket implicit; its
  // cumulative count is then the sample count by definition.
  if (last === undefined || parseGoFloat(last[0]) !== Infinity) buckets.push(['+Inf', total]);
  let out = '';
  for (const [le, cumulative] of buckets) {
    out += sample(`${name}_bucket`, labels, count(name, 'bucket count', cumulative), ['le', le]);
  }
  out += sample(`${name}_sum`, labels, float(name, 'sum', m.sum));
  out += sample(`${name}_count`, labels, total);
  return out;
}

/** Entries of a quantile or bucket map, bounds checked and sorted numerically (+Inf last). */
function numericEntries(family: string, what: string, map: Readonly<Record<string, string>> | undefined): Array<[string, string]> {
  // Newer pushgateways send native-histogram buckets as an array: not ours to render.
  if (map === undefined || map === null || typeof map !== 'object' || Array.isArray(map)) {
    fail(family, `${what} missing or not a map`);
  }
  const entries = Object.entries(map).map(([bound, v]): [string, string, number] => [float(family, what, bound), v, parseGoFloat(bound)]);
  entries.sort((a, b) => (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : compareStrings(a[0], b[0])));
  return entries.map(([bound, v]) => [bound, v]);
}

function sortedLabels(family: string, m: ApiMetric, reserved: string | undefined): Labels {
  const names = Object.keys(m.labels).sort(compareStrings);
  return names.map((n) => {
    if (!LABEL_NAME.test(n)) fail(family, `label name ${JSON.stringify(n)} has no spelling in text format 0.0.4`);
    if (n === reserved) fail(family, `a metric of this type cannot have its own ${n} label`);
    const pair: readonly [string, string] = [n, m.labels[n] ?? ''];
    return pair;
  });
}

function sample(name: string, labels: Labels, value: string, extra?: readonly [string, string]): string {
  const pairs = extra === undefined ? labels : [...labels, extra];
  if (pairs.length === 0) return `${name} ${value}\n`;
  const inner = pairs.map(([n, v]) => `${n}="${escapeLabelValue(v)}"`).join(',');
  return `${name}{${inner}} ${value}\n`;
}

function float(family: string, what: string, text: string | undefined): string {
  if (text === undefined || !GO_FLOAT.test(text)) fail(family, `${what} ${JSON.stringify(text)} is not a number`);
  return text;
}

/**
 * The text parser reads counts as a float and converts to uint64, so only
 * integers a float64 holds exactly survive; a larger count (or a float
 * count, which newer pushgateways may report) is refused.
 */
function count(family: string, what: string, text: string | undefined): string {
  if (text === undefined || !/^\d+$/.test(text) || BigInt(text) >= 2n ** 64n || BigInt(Number(text)) !== BigInt(text)) {
    fail(family, `${what} ${JSON.stringify(text)} is not a count the text format carries exactly`);
  }
  return text;
}

/**
 * HELP escapes only backslash and newline (a quote stays as is). The parser
 * skips blanks before the text, so leading blanks have no spelling.
 */
function escapeHelp(family: string, help: string): string {
  if (help.startsWith(' ') || help.startsWith('\t')) fail(family, 'HELP starts with a blank, which the text format drops');
  return help.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));
}

function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

function signature(labels: Labels): string {
  return labels.map(([n, v]) => `${n}\u0000${v}\u0000`).join('');
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function fail(family: string, why: string): never {
  throw new UnrenderableGroupError(`family ${JSON.stringify(family)}: ${why}`);
}
