/**
 * The text parser against Pushgateway 1.5.1's own answers: every body
 * below was PUT to Debian's prometheus-pushgateway (which parses with
 * prometheus/common's expfmt.TextParser) and the expected outcome is its
 * answer: parsed, or its 400 message minus the trailing newline. (Pushes
 * it parsed but rejected later, e.g. for a timestamp, count as parsed.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseText, TextParseError } from '../../src/exposition/text-parser.js';

const CASES: ReadonlyArray<readonly [body: string | Buffer, parseError: string | undefined]> = [
  ['a 1\n', undefined],
  ['a{b="c"} 1\n', undefined],
  ['a 1 17\n', undefined],
  ['a NaN\na{x="1"} +Inf\na{x="2"} -Inf\na{x="3"} Inf\na{x="4"} nan\na{x="5"} 1.\na{x="6"} .5\n', undefined],
  ['a +nan\n', 'text format parsing error in line 1: expected float as value, got "+nan"'],
  ['a 1e400\n', 'text format parsing error in line 1: expected float as value, got "1e400"'],
  ['a 0x1p3\n', 'text format parsing error in line 1: expected float as value, got "0x1p3"'],
  ['a 1_000\n', 'text format parsing error in line 1: expected float as value, got "1_000"'],
  ['a abc\n', 'text format parsing error in line 1: expected float as value, got "abc"'],
  ['a 1 1.5\n', 'text format parsing error in line 1: expected integer as timestamp, got "1.5"'],
  ['a 1 12 x\n', 'text format parsing error in line 1: spurious string after timestamp: " x"'],
  ['a{b="c\\d"} 1\n', "text format parsing error in line 1: invalid escape sequence '\\d'"],
  ['a{b="c\\"d"} 1\n', undefined],
  ['a{b="c\nd"} 1\n', 'text format parsing error in line 1: label value "c" contains unescaped new-line'],
  ['a{b="c\td"} 1\n', undefined],
  ['a{b="c",b="d"} 1\n', 'text format parsing error in line 1: duplicate label names for metric "a"'],
  ['a{__name__="x"} 1\n', 'text format parsing error in line 1: label name "__name__" is reserved'],
  ['a{b=c} 1\n', `text format parsing error in line 1: expected '"' at start of label value, found 'c'`],
  ['a{b="c" 1\n', 'text format parsing error in line 1: unexpected end of label value "c"'],
  ['a{b="c"x} 1\n', 'text format parsing error in line 1: unexpected end of label value "c"'],
  ['a{b} 1\n', "text format parsing error in line 1: expected '=' after label name, found '}'"],
  ['a{1b="c"} 1\n', 'text format parsing error in line 1: invalid label name for metric "a"'],
  ['a{} 1\n', undefined],
  ['a{ b = "c" , } 1\n', undefined],
  ['# HELP a x\ny\\z\n', 'text format parsing error in line 2: expected float as value, got "\\\\z"'],
  ['# HELP a x\ty\n', undefined],
  ['# HELP a one\n# HELP a two\n', 'text format parsing error in line 2: second HELP line for metric name "a"'],
  ['# TYPE a counter\n# TYPE a gauge\n', 'text format parsing error in line 2: second TYPE line for metric name "a", or TYPE reported after samples'],
  ['a 1\n# TYPE a counter\n', 'text format parsing error in line 2: second TYPE line for metric name "a", or TYPE reported after samples'],
  ['# TYPE a bogus\n', 'text format parsing error in line 1: unknown metric type "bogus"'],
  ['# TYPE a COUNTER\na 1\n', undefined],
  ['# random comment\n', undefined],
  ['#\n', undefined],
  ['# TYPE\n', undefined],
  ['# HELP 1abc x\n', 'text format parsing error in line 1: invalid metric name in comment'],
  ['# TYPE a summary\na{quantile="x"} 1\n', "text format parsing error in line 2: expected float as value for 'quantile' label, got \"x\""],
  ['# TYPE a histogram\na_bucket{le="x"} 1\n', "text format parsing error in line 2: expected float as value for 'le' label, got \"x\""],
  ['# TYPE a summary\na_count 1\na_sum 2\na{quantile="0.5"} 3\n', undefined],
  ['1a 1\n', 'text format parsing error in line 1: invalid metric name'],
  [Buffer.from('a{b="\xff"} 1\n', 'latin1'), 'text format parsing error in line 1: invalid label value "\\xff"'],
  ['\t a 1\n', undefined],
  ['a\t1\n', undefined],
  // Not from the table above, but the same rule: a body must end in a newline.
  ['a 1', 'text format parsing error in line 1: unexpected end of input stream'],
];

test('parses, or refuses with the message, exactly as Pushgateway 1.5.1 answered each body', () => {
  for (const [body, expected] of CASES) {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    let got: string | undefined;
    try {
      parseText(bytes);
    } catch (err) {
      assert.ok(err instanceof TextParseError, String(err));
      got = err.message;
    }
    assert.equal(got, expected, `body ${JSON.stringify(bytes.toString('latin1'))}`);
  }
});

test('summary and histogram lines join their family, grouped by labels without quantile / le', () => {
  const push = parseText(Buffer.from('# TYPE s summary\ns{q="1",quantile="0.5"} 1\ns_count{q="1"} 2\ns{q="2",quantile="0.9"} 3\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 2\nh_count 3\n'));
  assert.deepEqual([...push.keys()].sort(), ['h', 's']);
  assert.deepEqual(push.get('s')?.metrics.map((m) => m.labels.map((l) => `${l.name}=${l.value}`)), [['q=1'], ['q=2']]);
  assert.equal(push.get('h')?.metrics.length, 1);
  assert.deepEqual(push.get('h')?.metrics[0]?.labels, []);
});

test('missing TYPE makes an untyped family; HELP unescapes \\\\ and \\n; families without samples are dropped', () => {
  const push = parseText(Buffer.from('# HELP a x\\\\y\\nz\na 1\n# TYPE b counter\n'));
  assert.equal(push.get('a')?.type, 'UNTYPED');
  assert.equal(push.get('a')?.help, 'x\\y\nz');
  assert.equal(push.has('b'), false);
});

test('a timestamp is parsed and marked (the check rejects it)', () => {
  assert.equal(parseText(Buffer.from('a 1 -17\n')).get('a')?.metrics[0]?.hasTimestamp, true);
});
