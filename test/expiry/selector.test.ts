import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSelector, selects, SelectorError } from '../../src/expiry/selector.js';

const sel = (text: string, labels: Record<string, string>): boolean => selects(parseSelector(text), labels);

test('the four operators, as Prometheus applies them to label values', () => {
  const g = { job: 'batch-nightly', env: 'stg-eu' };
  assert.equal(sel('{job="batch-nightly"}', g), true);
  assert.equal(sel('{job="batch"}', g), false);
  assert.equal(sel('{job=~".+", env!="prod"}', g), true);
  assert.equal(sel('{job=~".+", env!="stg-eu"}', g), false);
  assert.equal(sel('{job=~"batch-.*"}', g), true);
  assert.equal(sel('{job!="", env!~"stg.*"}', g), false);
  assert.equal(sel('{job!="", env!~"prod"}', g), true);
  // All matchers must match.
  assert.equal(sel('{job=~"batch-.*", env!="stg-eu"}', g), false);
  assert.equal(sel(`{job=~'batch-.*',env=~\`stg-.+\`,}`, g), true);
});

test('regexes are anchored at both ends, and . matches a newline (Prometheus ^(?s:re)$)', () => {
  assert.equal(sel('{job=~"batch"}', { job: 'batch-nightly' }), false);
  assert.equal(sel('{job=~"nightly"}', { job: 'batch-nightly' }), false);
  assert.equal(sel('{job=~"a|b"}', { job: 'ab' }), false);
  assert.equal(sel('{job=~"a|b"}', { job: 'b' }), true);
  assert.equal(sel('{job=~"a.b"}', { job: 'a\nb' }), true);
  assert.equal(sel('{job!="", job!~"a|b"}', { job: 'xb' }), true);
});

test('an absent label is the empty value', () => {
  assert.equal(sel('{job="a", env=""}', { job: 'a' }), true);
  assert.equal(sel('{job="a", env=""}', { job: 'a', env: '' }), true);
  assert.equal(sel('{job="a", env=""}', { job: 'a', env: 'x' }), false);
  assert.equal(sel('{job="a", env!=""}', { job: 'a' }), false);
  assert.equal(sel('{job="a", env=~".*"}', { job: 'a' }), true);
  assert.equal(sel('{job="a", env=~".+"}', { job: 'a' }), false);
  assert.equal(sel('{job="a", env!~"prod"}', { job: 'a' }), true);
});

test('escapes in quoted values; raw backtick strings', () => {
  assert.equal(parseSelector('{job="a\\"b\\\\c\\n\\x41\\u00e9"}').matchers[0]?.value, 'a"b\\c\nAé');
  assert.equal(parseSelector('{job=`a\\d+`}').matchers[0]?.value, 'a\\d+');
  assert.equal(sel('{job=~`a\\d+`}', { job: 'a42' }), true);
});

test('errors say what is wrong', () => {
  const bad: Array<[string, RegExp]> = [
    ['job="a"', /must start with \{/],
    ['{env!="prod"}', /at least one matcher that does not match the empty value/],
    ['up{job="a"}', /metric name is not allowed/],
    ['{job="a"', /missing \}/],
    ['{job="a" env="b"}', /expected , or \}/],
    ['{job=="a"}', /expected a quoted value/],
    ['{job~"a"}', /expected one of =, !=, =~, !~ after job/],
    ['{9job="a"}', /expected a label name/],
    ['{job="a}', /unterminated string/],
    ['{job=~"a("}', /invalid regex for job/],
    ['{job="a\\q"}', /unknown escape \\q/],
    ['{}', /at least one matcher that does not match the empty value/],
    ['{env=~".*", x!="y"}', /at least one matcher that does not match the empty value/],
    ['{job="a"} x', /unexpected "x" after \}/],
  ];
  for (const [text, message] of bad) {
    assert.throws(() => parseSelector(text), (err: unknown) => err instanceof SelectorError && message.test(err.message) && err.message.includes(JSON.stringify(text)), text);
  }
});
