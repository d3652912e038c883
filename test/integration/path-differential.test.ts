/**
 * Differential test of push paths: a few thousand seeded fuzzed paths (odd
 * case, dot segments, escapes, base64, separators, queries) sent both to a
 * real pushgateway and, through shardgate, to another one. Status codes and
 * Location headers must match, except for the documented differences listed
 * in `allowed` (each with its reason), which are counted and reported.
 * The consistency check is off on both: a push's status then depends on
 * its path and body only, not on what the store already holds.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPushgateways, type TestPushgateway } from '../support/pushgateway.js';
import { startShardgate, type Shardgate } from '../support/shardgate.js';
import { rawRequest, type RawResponse } from '../support/raw-request.js';
import { SeededRandom } from '../support/seeded-random.js';

const SEED = 7_301;
const PATHS = 2_500;

let direct: TestPushgateway;
let behind: TestPushgateway;
let sg: Shardgate;
before(async () => {
  [direct, behind] = (await startPushgateways(2, { extraArgs: ['--push.disable-consistency-check'] })) as [TestPushgateway, TestPushgateway];
  sg = await startShardgate({ config: `targets: ["${behind.target}"]\n`, waitReady: true });
});
after(async () => {
  await sg?.stop();
  await Promise.all([direct, behind].map((p) => p?.stop()));
});

const PARTS: [string, ...string[]] = [
  'metrics', 'METRICS', 'Metrics', 'job', 'JOB', 'jOb', 'job@base64', 'JOB@BASE64', 'job@base64', '', '', '.', '..', '%2e%2e', '%2E',
  '%2F', 'a%2Fb', 'a', 'b', 'x', 'instance', 'instance@base64', '__x', '1x', 'x-y', 'YQ', 'YQ==', 'YS9i', '=', '!!', '%20', '%C3%A9',
  '%zz', '%ff', '%C3', '%', '@', ';', 'a=b', '!', '*', "'", '(', ')', '~', '$', '&', '+', ',', ':', '%3F', '%25', '%40', 'q%3Fx',
];
const QUERIES = ['(none)', '(none)', '(none)', '', 'a=b', 'x=%zz', 'a=b&c'] as const;
const METHODS = ['PUT', 'PUT', 'POST', 'DELETE', 'PATCH'] as const;

function fuzzPath(r: SeededRandom): string {
  const head = r.next() < 0.85 ? '/metrics/job' : r.pick(['//', '/metrics', '/METRICS/', '/metrics/jobs', '//metrics/job', '/metrics/./job']);
  const n = r.int(6);
  let path = head;
  for (let i = 0; i < n; i++) path += `/${r.pick(PARTS)}`;
  if (r.next() < 0.1) path += '/';
  const query = r.pick(QUERIES);
  return query === '(none)' ? path : `${path}?${query}`;
}

/** Why a difference is allowed; undefined when it is not. */
function allowed(path: string, pg: RawResponse, ours: RawResponse): string | undefined {
  const rawPath = path.split('?')[0] ?? '';
  let decoded: string | undefined;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    decoded = undefined;
  }
  const badEscape = /%(?![0-9A-Fa-f]{2})/.test(rawPath);
  if (!badEscape && decoded === undefined && (ours.status === 400 || (ours.status === 405 && pg.status !== 200))) {
    return 'path decodes to invalid UTF-8: shardgate refuses it (a pushgateway stores it and its /metrics breaks)';
  }
  if (ours.status === 400 && ours.body.includes('decoded value is not valid UTF-8')) {
    return '@base64 value decodes to invalid UTF-8: refused, for the same reason';
  }
  if (badEscape && pg.status === 400 && (ours.status === 400 || ours.status === 404)) {
    return 'invalid %-escape: both refuse (Go at the HTTP layer with 400 for the whole URL)';
  }
  return undefined;
}

test(`${PATHS} fuzzed push paths: same status and Location as a real pushgateway, but for documented differences`, async (t) => {
  const r = new SeededRandom(SEED);
  const differences = new Map<string, number>();
  let compared = 0;
  for (let i = 0; i < PATHS; i++) {
    const path = fuzzPath(r);
    const method = r.pick(METHODS);
    const body = method === 'PUT' || method === 'POST' ? 'fz 1\n' : undefined;
    const pg = await rawRequest(direct.url, method, path, body);
    const ours = await rawRequest(sg.url, method, path, body);
    compared++;
    if (pg.status === ours.status && pg.headers.location === ours.headers.location) continue;
    const why = allowed(path, pg, ours);
    assert.ok(why !== undefined, `${method} ${path}: pushgateway ${pg.status} ${pg.headers.location ?? ''} ${pg.body.trim().slice(0, 120)} | shardgate ${ours.status} ${ours.headers.location ?? ''} ${ours.body.trim().slice(0, 120)}`);
    differences.set(why, (differences.get(why) ?? 0) + 1);
  }
  t.diagnostic(`${compared} paths compared; allowed differences: ${[...differences].map(([k, v]) => `${v} × ${k}`).join('; ') || 'none'}`);
});
