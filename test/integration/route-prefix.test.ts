/**
 * --web.route-prefix and --web.external-url, as Pushgateway has them: every
 * route lives under the prefix (push paths, lookup, API, /metrics, health,
 * the status page), nothing outside it, and redirects keep the prefix.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPushgateway, type TestPushgateway } from '../support/pushgateway.js';
import { startShardgate } from '../support/shardgate.js';
import { rawRequest } from '../support/raw-request.js';
import { groupsOn } from '../support/pushgateway-api.js';
import { computeRoutePrefix } from '../../src/web/route-prefix.js';

let pg: TestPushgateway;
before(async () => {
  pg = await startPushgateway();
});
after(() => pg.stop());

test('the prefix comes from --web.route-prefix, else the external URL path; "/" means none', () => {
  const ext = new URL('https://example.com/gw/shards/');
  assert.equal(computeRoutePrefix(undefined, ext), '/gw/shards');
  assert.equal(computeRoutePrefix('inner/', ext), '/inner');
  assert.equal(computeRoutePrefix('/', ext), '');
  assert.equal(computeRoutePrefix(undefined, new URL('http://example.com')), '');
  assert.equal(computeRoutePrefix(undefined, undefined), '');
});

test('every route is under the prefix taken from --web.external-url; redirects keep it', async (t) => {
  // Health lives at /sg/-/healthy too, so the helper is told where to look.
  const prefixed = await startShardgate({ config: `targets: ["${pg.target}"]\n`, args: ['--web.external-url=http://shardgate.example:9292/sg/'], probe: async (url) => (await fetch(url.replace('/-/', '/sg/-/'))).status === 200 });
  t.after(() => prefixed.stop());
  const base = prefixed.url;

  assert.equal((await fetch(`${base}/sg/metrics/job/prefixed/instance/a`, { method: 'PUT', body: 'up 1\n' })).status, 200);
  assert.deepEqual((await groupsOn(pg.url)).map((g) => g.labels.job), ['prefixed'], 'the upstream path has no prefix');
  const lookup = (await (await fetch(`${base}/sg/metrics/job/prefixed/instance/a`)).json()) as { shard: string };
  assert.equal(lookup.shard, pg.target);
  for (const path of ['/sg/metrics', '/sg/-/ready', '/sg/api/v1/shards', '/sg/api/v1/metrics', '/sg/', '/sg/static/status.js']) {
    assert.equal((await fetch(`${base}${path}`)).status, 200, path);
  }
  for (const path of ['/metrics', '/-/healthy', '/api/v1/shards', '/static/status.js', '/sgx/metrics']) {
    assert.equal((await fetch(`${base}${path}`, { redirect: 'manual' })).status, 404, path);
  }
  assert.equal((await rawRequest(base, 'PUT', '/metrics/job/prefixed', 'up 1\n')).status, 404, 'no push outside the prefix');

  // Redirects keep the prefix: Pushgateway's 307 for "/metrics/job/", 301 for unclean paths, and the bare addresses.
  const slash = await rawRequest(base, 'PUT', '/sg/metrics/job/');
  assert.equal(slash.status, 307);
  assert.equal(slash.headers.location, '/sg/metrics/job');
  const unclean = await rawRequest(base, 'PUT', '/sg/metrics/job/x/../prefixed', 'up 1\n');
  assert.equal(unclean.status, 301);
  assert.equal(unclean.headers.location, '/sg/metrics/job/prefixed');
  const bare = await rawRequest(base, 'GET', '/sg');
  assert.equal(bare.status, 301);
  assert.equal(bare.headers.location, '/sg/');
  const root = await rawRequest(base, 'GET', '/');
  assert.equal(root.status, 302);
  assert.equal(root.headers.location, '/sg/');
});

test('--web.route-prefix overrides the external URL path', async (t) => {
  const sg = await startShardgate({
    config: `targets: ["${pg.target}"]\n`,
    args: ['--web.external-url=http://proxy.example/outer/', '--web.route-prefix=/'],
  });
  t.after(() => sg.stop());
  assert.equal((await fetch(`${sg.url}/metrics/job/unprefixed`, { method: 'PUT', body: 'up 1\n' })).status, 200);
  assert.equal((await fetch(`${sg.url}/outer/metrics`)).status, 404);
});
