/**
 * deploy/grafana/shardgate.json without Grafana: every panel reads the
 * templated Prometheus datasource, every query is valid PromQL (promtool), and
 * every metric it names is one shardgate exports or one the scrape config in
 * deploy/kubernetes/prometheus.yml produces. That the queries return data from
 * a real Prometheus is checked in test/integration/prometheus-e2e.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { Metrics } from '../../src/telemetry/metrics.js';
import { dashboardQueries, loadDashboard, metricNames, panelsOf, withRange } from '../support/grafana-dashboard.js';
import { list, obj, str } from '../support/json-shape.js';

const dashboard = loadDashboard();
const queries = dashboardQueries(dashboard);

test('one templated Prometheus datasource, used by every panel and target', () => {
  const variables = list(obj(dashboard['templating'], 'templating')['list'], 'templating.list').map((v) => obj(v, 'variable'));
  const ds = variables.find((v) => v['name'] === 'datasource');
  assert.deepEqual([ds?.['type'], ds?.['query']], ['datasource', 'prometheus']);
  const panels = panelsOf(dashboard).filter((p) => p['type'] !== 'row');
  assert.ok(panels.length >= 15);
  for (const p of panels) {
    const where = `panel ${String(p['title'])}`;
    assert.deepEqual(p['datasource'], { type: 'prometheus', uid: '${datasource}' }, where);
    const targets = list(p['targets'], `${where} targets`).map((t) => obj(t, 'target'));
    assert.ok(targets.length > 0, `${where} has no query`);
    for (const t of targets) assert.deepEqual(t['datasource'], p['datasource'], `${where} target ${String(t['refId'])}`);
  }
  const ids = panelsOf(dashboard).map((p) => p['id']);
  assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
});

test('every query is valid PromQL (promtool, as recording rules)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'shardgate-dashboard-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const rules = queries.map((q, i) => `      - record: dashboard:query_${i}\n        expr: ${JSON.stringify(withRange(q.expr, '5m'))}`).join('\n');
  await writeFile(join(dir, 'rules.yml'), `groups:\n  - name: dashboard\n    rules:\n${rules}\n`);
  const check = spawnSync('promtool', ['check', 'rules', join(dir, 'rules.yml')], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);
  assert.match(check.stdout, new RegExp(`SUCCESS: ${queries.length} rules found`));
});

test('every metric a query names is exported by shardgate or produced by the deploy scrape config', async () => {
  const own = new Set<string>();
  for (const m of await new Metrics('test').registry.getMetricsAsJSON()) {
    own.add(m.name);
    // prom-client's typings declare an enum; at run time the type is a string.
    if (String(m.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) own.add(m.name + suffix);
  }
  // The groups-per-shard series: push_time_seconds renamed by the pushgateway_groups job.
  const scrape = obj(parseYaml(readFileSync(fileURLToPath(new URL('../../../deploy/kubernetes/prometheus.yml', import.meta.url)), 'utf8')), 'prometheus.yml');
  const groupsJob = list(scrape['scrape_configs'], 'scrape_configs').map((j) => obj(j, 'job')).find((j) => j['job_name'] === 'pushgateway_groups');
  const renamed = list(groupsJob?.['metric_relabel_configs'], 'metric_relabel_configs').map((r) => obj(r, 'relabel')).find((r) => r['target_label'] === '__name__');
  const produced = new Set([...own, str(renamed?.['replacement'], 'replacement')]);
  const unknown = queries.flatMap((q) => metricNames(q.expr).filter((n) => !produced.has(n)).map((n) => `${q.panel}/${q.refId}: ${n}`));
  assert.deepEqual(unknown, []);
  // The name extraction itself: it must see the metric, not the functions, labels or keywords around it.
  assert.deepEqual(metricNames('histogram_quantile(0.9, sum by (le, shard) (rate(x_bucket{a="b"}[5m]))) or vector(0)'), ['x_bucket']);
});
