import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { routePushPath, GroupingKeyError, type PushRoute } from '../../src/groupingkey/push-path.js';
import { shardKey, groupId, type GroupingKey } from '../../src/groupingkey/grouping-key.js';
import { upstreamPath } from '../../src/groupingkey/upstream-path.js';
import { encodeBase64Value } from '../../src/groupingkey/base64.js';

function key(path: string): Record<string, string> {
  const r = routePushPath(path);
  assert.equal(r.kind, 'key', `${path} should parse to a key, got ${JSON.stringify(r)}`);
  return { ...(r as Extract<PushRoute, { kind: 'key' }>).key };
}

function rejects(path: string, message: string | RegExp): void {
  assert.throws(() => routePushPath(path), (err: unknown) => {
    assert.ok(err instanceof GroupingKeyError, `expected GroupingKeyError for ${path}`);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

test('plain job and labels', () => {
  assert.deepEqual(key('/metrics/job/batch'), { job: 'batch' });
  assert.deepEqual(key('/metrics/job/batch/instance/db1/zone/eu'), { job: 'batch', instance: 'db1', zone: 'eu' });
});

test('@base64 job and values, padding optional, = is the empty value', () => {
  assert.deepEqual(key('/metrics/job@base64/YS9i'), { job: 'a/b' });
  assert.deepEqual(key('/metrics/job/j/path@base64/L3Zhci90bXA='), { job: 'j', path: '/var/tmp' });
  assert.deepEqual(key('/metrics/job/j/path@base64/L3Zhci90bXA'), { job: 'j', path: '/var/tmp' });
  assert.deepEqual(key('/metrics/job/j/instance@base64/='), { job: 'j', instance: '' });
});

test("Pushgateway's quirks: last repeat wins, path job wins, trailing slash is an empty value", () => {
  assert.deepEqual(key('/metrics/job/a/x/1/x/2'), { job: 'a', x: '2' });
  assert.deepEqual(key('/metrics/job/a/job/zzz'), { job: 'a' });
  assert.deepEqual(key('/metrics/job/a/b/'), { job: 'a', b: '' });
  assert.deepEqual(key('/metrics/job/a/'), { job: 'a' });
});

test('percent-encoding is decoded before splitting, as Go does (%2F separates)', () => {
  assert.deepEqual(key('/metrics/job/a%2Fb/c'), { job: 'a', b: 'c' });
  assert.deepEqual(key('/metrics/job/a%20b/l/%C3%BC'), { job: 'a b', l: 'ü' });
});

test("malformed keys get Pushgateway's 400 messages", () => {
  rejects('/metrics/job/a/b', 'odd number of components in label string "/b"');
  rejects('/metrics/job/a/b/c/', 'odd number of components in label string "/b/c/"');
  rejects('/metrics/job/a/__x/1', 'improper label name "__x"');
  rejects('/metrics/job/a/1x/1', 'improper label name "1x"');
  rejects('/metrics/job/a/x-y/1', 'improper label name "x-y"');
  rejects('/metrics/job/a/__x@base64/MQ', 'improper label name "__x"');
  rejects('/metrics/job@base64/=', 'job name is required');
  rejects('/metrics/job@base64/YQ/b@base64/!!', /^invalid base64 encoding for label b="!!": illegal base64 data at input byte 0$/);
  rejects('/metrics/job@base64/!!', /^invalid base64 encoding in job name "!!"/);
  rejects('/metrics/job/a/b/%zz', 'invalid URL escape "%zz"');
});

test('unclean paths are redirected like Go ServeMux, never routed', () => {
  assert.deepEqual(routePushPath('/metrics/job/a/../b'), { kind: 'redirect', status: 301, location: '/metrics/job/b' });
  assert.deepEqual(routePushPath('/metrics/job/a/%2e%2e/b'), { kind: 'redirect', status: 301, location: '/metrics/job/b' });
  assert.deepEqual(routePushPath('/metrics/job/a//b/c'), { kind: 'redirect', status: 301, location: '/metrics/job/a/b/c' });
  assert.deepEqual(routePushPath('/metrics/job/a%2F%2Fb/c'), { kind: 'redirect', status: 301, location: '/metrics/job/a/b/c' });
  // Traversal towards admin/lifecycle endpoints never yields a key.
  assert.deepEqual(routePushPath('/metrics/job/../../-/quit'), { kind: 'redirect', status: 301, location: '/-/quit' });
  assert.deepEqual(routePushPath('/metrics/job/%2e%2e/%2e%2e/api/v1/admin/wipe'), { kind: 'redirect', status: 301, location: '/api/v1/admin/wipe' });
  assert.deepEqual(routePushPath('/metrics/job/'), { kind: 'fix', location: '/metrics/job' });
  assert.deepEqual(routePushPath('/metrics/job/', 'q=1'), { kind: 'fix', location: '/metrics/job?q=1' });
  assert.deepEqual(routePushPath('/metrics/job@base64/'), { kind: 'not-found' });
  assert.deepEqual(routePushPath('/metrics/jobs/a'), { kind: 'not-found' });
});

test("redirect Locations are escaped as Go escapes them, the raw query kept (measured on Pushgateway 1.5.1)", () => {
  assert.deepEqual(routePushPath('/metrics/job/a/../x@y/a=b;c!()*%20%C3%A9%3F', 'q=%zz'), { kind: 'redirect', status: 301, location: '/metrics/job/x@y/a=b;c%21%28%29%2A%20%C3%A9%3F?q=%zz' });
  assert.deepEqual(routePushPath('/metrics/job/a/../job@base64/YQ==', ''), { kind: 'redirect', status: 301, location: '/metrics/job/job@base64/YQ==' });
});

test("httprouter's case fixes: /metrics/job/ in any case, /metrics/job@base64/ only for a bare job", () => {
  assert.deepEqual(routePushPath('/metrics/JOB/a'), { kind: 'fix', location: '/metrics/job/a' });
  assert.deepEqual(routePushPath('/Metrics/Job/a/B/c', 'x=1'), { kind: 'fix', location: '/metrics/job/a/B/c?x=1' });
  assert.deepEqual(routePushPath('/metrics/JOB/a', ''), { kind: 'fix', location: '/metrics/job/a?' });
  assert.deepEqual(routePushPath('/metrics/j%4fb/a%2Fb'), { kind: 'fix', location: '/metrics/job/a/b' });
  assert.deepEqual(routePushPath('/METRICS/job@BASE64/YQ'), { kind: 'fix', location: '/metrics/job@base64/YQ' });
  assert.deepEqual(routePushPath('/METRICS/job@BASE64/YQ/x/y'), { kind: 'not-found' });
  assert.deepEqual(routePushPath('/metrics/JOB/'), { kind: 'not-found' });
  assert.deepEqual(routePushPath('/metrics/JOBX/a'), { kind: 'not-found' });
});

test('every spelling of a group has the same shard key; label order is irrelevant', () => {
  const spellings = [
    '/metrics/job/j/a/1/b/2',
    '/metrics/job/j/b/2/a/1',
    '/metrics/job@base64/ag/a@base64/MQ==/b/2',
    '/metrics/job/j/a/1/b/2/instance/',
    '/metrics/job/j/a/1/b/2/instance@base64/=',
    '/metrics/job/j/job/other/a/1/b/2',
  ];
  const keys = spellings.map((p) => shardKey(key(p) as GroupingKey));
  assert.equal(new Set(keys).size, 1);
  // ...while exact group identity still tells instance="" apart, as Pushgateway does.
  assert.notEqual(groupId(key('/metrics/job/j/a/1/b/2') as GroupingKey), groupId(key('/metrics/job/j/a/1/b/2/instance/') as GroupingKey));
});

const labelName = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,8}$/).filter((n) => !n.startsWith('__') && n !== 'job');
const labelValue = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('', '.', '..', '/', 'a/b', '%2F', '@base64', '=', ' ', 'ü✓'));

test('property: upstreamPath round-trips through the parser to the same group', () => {
  fc.assert(
    fc.property(fc.string({ minLength: 1, maxLength: 12 }), fc.dictionary(labelName, labelValue, { maxKeys: 5 }), (job, labels) => {
      const original = { ...labels, job } as GroupingKey;
      const path = upstreamPath(original);
      const parsed = key(path);
      assert.equal(groupId(parsed as GroupingKey), groupId(original));
    }),
    { numRuns: 2000 },
  );
});

test('property: any spelling (order, base64 or plain) reaches the same shard key', () => {
  fc.assert(
    fc.property(
      fc.stringMatching(/^[a-z]{1,8}$/),
      fc.uniqueArray(fc.tuple(labelName, fc.string({ maxLength: 8 }), fc.boolean()), { selector: (t) => t[0], maxLength: 5 }),
      (job, pairs) => {
        const plainSafe = (v: string): boolean => v !== '' && v !== '.' && v !== '..' && !v.includes('/');
        const render = (ps: typeof pairs): string =>
          '/metrics/job/' + job + ps.map(([n, v, b]) => (b || !plainSafe(v) ? `/${n}@base64/${encodeBase64Value(v)}` : `/${n}/${encodeURIComponent(v)}`)).join('');
        const a = key(render(pairs));
        const b = key(render([...pairs].reverse()));
        assert.equal(shardKey(a as GroupingKey), shardKey(b as GroupingKey));
      },
    ),
    { numRuns: 1000 },
  );
});

test('property: the parser never throws anything but GroupingKeyError', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 40 }), (tail) => {
      try {
        routePushPath('/metrics/job/' + tail);
      } catch (err) {
        assert.ok(err instanceof GroupingKeyError, String(err));
      }
    }),
    { numRuns: 3000 },
  );
});
