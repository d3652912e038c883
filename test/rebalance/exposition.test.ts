import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { groupToExposition, groupingKeyOf, pushTimeOf, UnrenderableGroupError } from '../../src/rebalance/exposition.js';
import { InvalidGroupError } from '../../src/upstream/group-facts.js';
import { type ApiFamily, type ApiGroup, familiesOf, PUSHGATEWAY_OWN_FAMILIES } from '../../src/upstream/metrics-api.js';
import { parseTextFormat, type ParsedSample } from './text-format-parser.js';

// dist/test/rebalance/ -> test/fixtures/
const FIXTURE = new URL('../../../test/fixtures/api-v1-metrics-demo-group.json', import.meta.url);
const fixtureGroups: ApiGroup[] = JSON.parse(readFileSync(FIXTURE, 'utf8'));

function fixture(): ApiGroup {
  const g = fixtureGroups[0];
  assert.ok(g !== undefined, 'fixture holds one group');
  return g;
}

const FIXTURE_TEXT = `# TYPE c counter
c{instance="i1",job="demo"} 1.7976931348623157e+308
# HELP h a "hist"\\\\ \\nline2
# TYPE h histogram
h_bucket{instance="i1",job="demo",x="a\\"b\\\\c\\nd",le="0.1"} 1
h_bucket{instance="i1",job="demo",x="a\\"b\\\\c\\nd",le="+Inf"} 3
h_sum{instance="i1",job="demo",x="a\\"b\\\\c\\nd"} NaN
h_count{instance="i1",job="demo",x="a\\"b\\\\c\\nd"} 3
# TYPE s summary
s{instance="i1",job="demo",quantile="0.5"} 1e-300
s_sum{instance="i1",job="demo"} -Inf
s_count{instance="i1",job="demo"} 2
# TYPE u untyped
u{instance="i1",job="demo",x="✓"} 1
`;

test('the fixture group renders to the golden text', () => {
  assert.equal(groupToExposition(fixture()), FIXTURE_TEXT);
});

test('pushTimeOf and groupingKeyOf read the fixture', () => {
  assert.equal(pushTimeOf(fixture()), 1.7953206177565024e9);
  assert.deepEqual(groupingKeyOf(fixture()), { instance: 'i1', job: 'demo' });
  assert.ok(Object.isFrozen(groupingKeyOf(fixture())));
});

test('pushTimeOf is undefined without a finite push_time_seconds; groupingKeyOf needs a job', () => {
  const bare: ApiGroup = { labels: { job: 'j' }, last_push_successful: true };
  assert.equal(pushTimeOf(bare), undefined);
  assert.equal(pushTimeOf({ ...bare, push_time_seconds: gauge('NaN') }), undefined);
  assert.equal(pushTimeOf({ ...bare, push_time_seconds: gauge('+Inf') }), undefined);
  assert.equal(pushTimeOf({ ...bare, push_time_seconds: gauge('0') }), 0);
  assert.throws(() => groupingKeyOf({ labels: { instance: 'x' }, last_push_successful: true }), InvalidGroupError);
  assert.throws(() => groupingKeyOf({ labels: { job: '' }, last_push_successful: true }), InvalidGroupError);
});

test('a histogram without the +Inf bucket gets one holding the count; buckets sort numerically', () => {
  const text = groupToExposition(group({ h: { time_stamp: '', type: 'HISTOGRAM', metrics: [{ labels: { job: 'j' }, buckets: { '10': '4', '-1': '1', '2.5': '2', '1e-05': '1' }, count: '5', sum: '7' }] } }));
  assert.equal(
    text,
    `# TYPE h histogram
h_bucket{job="j",le="-1"} 1
h_bucket{job="j",le="1e-05"} 1
h_bucket{job="j",le="2.5"} 2
h_bucket{job="j",le="10"} 4
h_bucket{job="j",le="+Inf"} 5
h_sum{job="j"} 7
h_count{job="j"} 5
`,
  );
});

test('families without samples and Pushgateway’s own families are not rendered', () => {
  const g = group({ e: { time_stamp: '', type: 'GAUGE', help: 'empty', metrics: [] }, push_time_seconds: gauge('1'), push_failure_time_seconds: gauge('2') });
  assert.equal(groupToExposition(g), '');
});

test('what the text format cannot carry exactly is refused, not approximated', () => {
  const refused: Array<[string, ApiFamily]> = [
    ['gauge histogram (the JSON API has no buckets for it)', { time_stamp: '', type: 'GAUGE_HISTOGRAM', metrics: [{ labels: {}, value: '0' }] }],
    ['HELP with a leading blank', { time_stamp: '', type: 'GAUGE', help: ' x', metrics: [{ labels: {}, value: '1' }] }],
    ['value that is not a float', { time_stamp: '', type: 'GAUGE', metrics: [{ labels: {}, value: '1 2' }] }],
    ['missing value', { time_stamp: '', type: 'COUNTER', metrics: [{ labels: {} }] }],
    ['count above 2^53 that a float cannot hold', { time_stamp: '', type: 'SUMMARY', metrics: [{ labels: {}, quantiles: {}, count: '9007199254740993', sum: '1' }] }],
    ['fractional count', { time_stamp: '', type: 'HISTOGRAM', metrics: [{ labels: {}, buckets: {}, count: '2.5', sum: '1' }] }],
    ['native histogram buckets', { time_stamp: '', type: 'HISTOGRAM', metrics: [{ labels: {}, buckets: nativeBuckets(), count: '1', sum: '1' }] }],
    ['label name outside the legacy charset', { time_stamp: '', type: 'GAUGE', metrics: [{ labels: { 'a.b': 'x' }, value: '1' }] }],
    ['own le label on a histogram', { time_stamp: '', type: 'HISTOGRAM', metrics: [{ labels: { le: '1' }, buckets: {}, count: '1', sum: '1' }] }],
  ];
  for (const [why, family] of refused) {
    assert.throws(() => groupToExposition(group({ f: family })), UnrenderableGroupError, why);
  }
  assert.throws(() => groupToExposition(group({ 'a.b': gauge('1') })), UnrenderableGroupError, 'UTF-8 metric name');
  // The largest uint64 a float64 holds exactly is fine.
  assert.doesNotThrow(() => groupToExposition(group({ f: { time_stamp: '', type: 'SUMMARY', metrics: [{ labels: {}, quantiles: {}, count: '18446744073709549568', sum: '1' }] } })));
});

// ---- round-trip property ---------------------------------------------------

const goFloat = fc.oneof(
  fc.constantFrom('NaN', '+Inf', '-Inf', '0', '-0', '1e-300', '5e-324', '1.7976931348623157e+308', '-1.7976931348623157e+308', '1e+21', '0.1'),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(goSpelling),
);
const countText = fc.oneof(fc.nat().map(String), fc.constantFrom('0', '9007199254740992', '18446744073709549568'));
const oddText = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  fc.constantFrom('', '"', '\\', '\n', '\\n', '\\"', 'a"b\\c\nd', '✓', 'ünïcödé 🎉', '}', ',le="1"', ' '),
  fc.array(fc.constantFrom('"', '\\', '\n', 'x', 'é', '}', ',', '=', ' ', '\t', '#'), { maxLength: 10 }).map((a) => a.join('')),
);
const labelName = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,5}$/).filter((n) => !n.startsWith('__') && !['le', 'quantile', 'job', 'instance'].includes(n));
const metricName = fc.stringMatching(/^[a-zA-Z_:][a-zA-Z0-9_:]{0,6}$/).filter((n) => n !== 'labels' && n !== 'last_push_successful' && !PUSHGATEWAY_OWN_FAMILIES.has(n));
const help = fc.option(oddText.filter((h) => !h.startsWith(' ') && !h.startsWith('\t')), { nil: undefined });
const ownLabels = fc.dictionary(labelName, oddText, { maxKeys: 3 });

function metricsOf<T>(extra: fc.Arbitrary<T>) {
  return fc.uniqueArray(fc.record({ own: ownLabels, extra }), { minLength: 1, maxLength: 3, selector: (m) => JSON.stringify(Object.entries(m.own).sort()) });
}
const boundsMap = (bound: fc.Arbitrary<string>, value: fc.Arbitrary<string>) =>
  fc.uniqueArray(fc.tuple(bound, value), { maxLength: 5, selector: ([b]) => b }).map((entries) => Object.fromEntries(entries));

const SIMPLE_TYPES: ReadonlyArray<ApiFamily['type']> = ['COUNTER', 'GAUGE', 'UNTYPED'];
type FamilyMaker = (grouping: Record<string, string>) => ApiFamily;
const familyMaker: fc.Arbitrary<FamilyMaker> = fc.oneof(
  fc.tuple(fc.constantFrom(...SIMPLE_TYPES), help, metricsOf(goFloat)).map(
    ([type, h, ms]): FamilyMaker => (grouping) => family(type, h, ms.map((m) => ({ labels: { ...m.own, ...grouping }, value: m.extra }))),
  ),
  fc.tuple(help, metricsOf(fc.record({ quantiles: boundsMap(fc.double({ min: 0, max: 1, noNaN: true }).map(goSpelling), goFloat), count: countText, sum: goFloat }))).map(
    ([h, ms]): FamilyMaker => (grouping) => family('SUMMARY', h, ms.map((m) => ({ labels: { ...m.own, ...grouping }, ...m.extra }))),
  ),
  fc.tuple(help, fc.boolean(), metricsOf(fc.record({ buckets: boundsMap(goFloat.filter((b) => b !== 'NaN'), countText), count: countText, sum: goFloat }))).map(
    ([h, withInf, ms]): FamilyMaker => (grouping) =>
      family('HISTOGRAM', h, ms.map((m) => ({ labels: { ...m.own, ...grouping }, ...m.extra, buckets: withInf ? { ...m.extra.buckets, '+Inf': m.extra.count } : m.extra.buckets }))),
  ),
);

const randomGroup: fc.Arbitrary<ApiGroup> = fc
  .record({
    job: oddText.filter((j) => j !== ''),
    instance: fc.option(oddText, { nil: undefined }),
    makers: fc.uniqueArray(fc.tuple(metricName, familyMaker), { maxLength: 5, selector: ([n]) => n }),
  })
  .map(({ job, instance, makers }) => {
    const grouping: Record<string, string> = instance === undefined ? { job } : { job, instance };
    const families: Record<string, ApiFamily> = Object.fromEntries(makers.map(([n, make]) => [n, make(grouping)]));
    families['push_time_seconds'] = family('GAUGE', 'Last Unix time when changing this group in the Pushgateway succeeded.', [{ labels: grouping, value: '1.7e+09' }]);
    families['push_failure_time_seconds'] = family('GAUGE', 'Last Unix time when changing this group in the Pushgateway failed.', [{ labels: grouping, value: '0' }]);
    return { ...families, labels: grouping, last_push_successful: true };
  });

test('round trip: every sample, HELP and TYPE survives rendering and re-reading; own families never appear', () => {
  fc.assert(
    fc.property(randomGroup, (g) => {
      const text = groupToExposition(g);
      const parsed = parseTextFormat(text);
      const expected = familiesOf(g).filter(([n]) => !PUSHGATEWAY_OWN_FAMILIES.has(n));
      assert.deepEqual([...parsed.keys()].sort(), expected.map(([n]) => n).sort());
      for (const [name, fam] of expected) {
        const got = parsed.get(name);
        assert.ok(got !== undefined);
        assert.equal(got.type, fam.type.toLowerCase());
        assert.equal(got.help, fam.help === '' ? undefined : fam.help);
        assert.deepEqual(canonical(got.samples), canonical(expectedSamples(name, fam)));
        if (fam.type === 'HISTOGRAM') assertBucketsAscending(got.samples);
      }
      assert.ok(!/^push_(failure_)?time_seconds/m.test(text));
      // Deterministic whatever order the JSON had its keys in.
      assert.equal(groupToExposition(reversed(g)), text);
    }),
    { numRuns: 400, ...(process.env['FC_SEED'] ? { seed: Number(process.env['FC_SEED']), path: process.env['FC_PATH'], verbose: 2 } : {}) },
  );
});

/** The samples a family stands for, derived straight from the JSON shape. */
function expectedSamples(name: string, fam: ApiFamily): ParsedSample[] {
  const out: ParsedSample[] = [];
  for (const m of fam.metrics) {
    const labels = { ...m.labels };
    if (fam.type === 'SUMMARY') {
      for (const [q, v] of Object.entries(m.quantiles ?? {})) out.push({ name, labels: { ...labels, quantile: q }, value: v });
    } else if (fam.type === 'HISTOGRAM') {
      const buckets = { '+Inf': m.count ?? '', ...m.buckets };
      for (const [le, v] of Object.entries(buckets)) out.push({ name: `${name}_bucket`, labels: { ...labels, le }, value: v });
    } else {
      out.push({ name, labels, value: m.value ?? '' });
      continue;
    }
    out.push({ name: `${name}_sum`, labels, value: m.sum ?? '' });
    out.push({ name: `${name}_count`, labels, value: m.count ?? '' });
  }
  return out;
}

function assertBucketsAscending(samples: readonly ParsedSample[]): void {
  const byMetric = new Map<string, number[]>();
  for (const s of samples) {
    if (!s.name.endsWith('_bucket')) continue;
    const { le, ...rest } = s.labels;
    const sig = JSON.stringify(Object.entries(rest).sort());
    const list = byMetric.get(sig) ?? [];
    list.push(le === '+Inf' ? Infinity : le === '-Inf' ? -Infinity : Number(le));
    byMetric.set(sig, list);
  }
  for (const bounds of byMetric.values()) {
    assert.deepEqual(bounds, [...bounds].sort((a, b) => a - b));
    assert.equal(bounds[bounds.length - 1], Infinity);
  }
}

function canonical(samples: readonly ParsedSample[]): string[] {
  return samples.map((s) => JSON.stringify([s.name, Object.entries(s.labels).sort(), s.value])).sort();
}

function reversed(g: ApiGroup): ApiGroup {
  const families: Record<string, ApiFamily> = {};
  for (const [name, fam] of familiesOf(g).reverse()) {
    families[name] = { ...fam, metrics: [...fam.metrics].reverse().map((m) => ({ ...m, labels: reverseKeys(m.labels), ...(m.buckets && { buckets: reverseKeys(m.buckets) }), ...(m.quantiles && { quantiles: reverseKeys(m.quantiles) }) })) };
  }
  return { ...families, labels: g.labels, last_push_successful: g.last_push_successful };
}

function reverseKeys(r: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(r).reverse());
}

/** Go's `%v` spelling of a float64, near enough: JavaScript's, with +Inf and a two-digit exponent. */
function goSpelling(x: number): string {
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  if (Object.is(x, -0)) return '-0';
  return String(x).replace(/e([+-])(\d)$/, 'e$10$2');
}

function family(type: ApiFamily['type'], h: string | undefined, metrics: ApiFamily['metrics']): ApiFamily {
  return h === undefined ? { time_stamp: '2026-01-01T00:00:00Z', type, metrics } : { time_stamp: '2026-01-01T00:00:00Z', type, help: h, metrics };
}

function gauge(value: string): ApiFamily {
  return { time_stamp: '', type: 'GAUGE', metrics: [{ labels: { job: 'j' }, value }] };
}

function group(families: Record<string, ApiFamily>): ApiGroup {
  return { ...families, labels: { job: 'j' }, last_push_successful: true };
}

/** What a newer pushgateway sends for a native histogram: an array, not a map. */
function nativeBuckets(): Readonly<Record<string, string>> {
  return JSON.parse('[[0, "1", "2", "1"]]');
}
