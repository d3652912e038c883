/**
 * deploy/kubernetes, checked without a cluster (see test/support/kubectl.ts
 * for what kubectl can do offline): rendered by `kubectl kustomize`, decoded
 * by kubectl's typed scheme, cross-checked structurally, the shardgate config
 * loaded by shardgate's own loader, the Prometheus config by promtool, and the
 * containers' args and probe paths tried on the real programs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { parseConfig } from '../../src/config/load-config.js';
import { freePort } from '../../src/local/free-port.js';
import { findPushgatewayBinary } from '../../src/local/pushgateway-binary.js';
import { startShardgate } from '../support/shardgate.js';
import { waitFor } from '../support/wait-for.js';
import { containersOf, kustomize, typedRoundTrip } from '../support/kubectl.js';
import { first, leaves, list, num, obj, str, valueAt, type JsonObject } from '../support/json-shape.js';

const DIR = fileURLToPath(new URL('../../../deploy/kubernetes', import.meta.url));
const objects = kustomize(DIR);
const NAMESPACE = 'shardgate';

const named = (kind: string, name: string): JsonObject => {
  const found = objects.find((o) => o['kind'] === kind && obj(o['metadata'], 'metadata')['name'] === name);
  return found ?? assert.fail(`no ${kind} ${name} rendered`);
};
const spec = (o: JsonObject): JsonObject => obj(o['spec'], `${String(o['kind'])}.spec`);
const podSpec = (w: JsonObject): JsonObject => obj(obj(spec(w)['template'], 'template')['spec'], 'template.spec');
const podLabels = (w: JsonObject): JsonObject => obj(obj(obj(spec(w)['template'], 'template')['metadata'], 'template.metadata')['labels'], 'template labels');
const workloads = objects.filter((o) => o['kind'] === 'Deployment' || o['kind'] === 'StatefulSet');
const services = objects.filter((o) => o['kind'] === 'Service');
const configMapData = (prefix: string): JsonObject => {
  const cm = objects.find((o) => o['kind'] === 'ConfigMap' && str(obj(o['metadata'], 'metadata')['name'], 'name').startsWith(`${prefix}-`));
  return obj((cm ?? assert.fail(`no ConfigMap ${prefix}-<hash>`))['data'], `${prefix}.data`);
};
const argValue = (args: readonly string[], flag: string): string | undefined => args.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
const argsOf = (c: JsonObject): string[] => list(c['args'], 'args').map((a, i) => str(a, `args[${i}]`));
const matches = (selector: JsonObject, labels: JsonObject): boolean => Object.entries(selector).every(([k, v]) => labels[k] === v);

test('kubectl kustomize renders every object, each named and in the namespace', () => {
  assert.deepEqual(objects.map((o) => o['kind']).sort(), ['ConfigMap', 'ConfigMap', 'Deployment', 'Namespace', 'Service', 'Service', 'StatefulSet']);
  for (const o of objects) {
    const meta = obj(o['metadata'], 'metadata');
    str(o['apiVersion'], 'apiVersion');
    const name = str(meta['name'], `${String(o['kind'])} metadata.name`);
    if (o['kind'] === 'Namespace') assert.equal(name, NAMESPACE);
    else assert.equal(meta['namespace'], NAMESPACE, `${String(o['kind'])} ${name} namespace`);
  }
});

test('kubectl\'s typed decode accepts every workload and Service and drops none of their fields', () => {
  for (const o of [...workloads, ...services]) {
    const what = `${String(o['kind'])} ${String(obj(o['metadata'], 'metadata')['name'])}`;
    const r = typedRoundTrip(o);
    assert.ok(r.ok, `${what}: ${r.ok ? '' : r.error}`);
    // A field kubectl does not know is dropped on the way: an unknown key or a typo.
    const lost = leaves(o).filter(([path, v]) => valueAt(r.object, path) !== v).map(([path]) => path.join('/'));
    assert.deepEqual(lost, [], `${what}: fields kubectl's schema does not know`);
  }
  // The check can fail: a misspelt probe field is dropped, a wrongly typed one rejected.
  const bad = structuredClone(named('Deployment', 'shardgate'));
  obj(list(podSpec(bad)['containers'], 'containers')[0], 'container')['readinesProbe'] = { httpGet: { path: '/-/ready', port: 'http' } };
  const probePath = ['spec', 'template', 'spec', 'containers', '0', 'readinesProbe'];
  assert.notEqual(valueAt(bad, probePath), undefined);
  const dropped = typedRoundTrip(bad);
  assert.ok(dropped.ok && valueAt(dropped.object, probePath) === undefined, 'kubectl drops an unknown field');
  spec(bad)['replicas'] = 'one';
  const rejected = typedRoundTrip(bad);
  assert.ok(!rejected.ok && /unable to decode/.test(rejected.error), 'kubectl rejects a string for an integer');
});

test('selectors match pod labels; Service ports and probes name container ports', () => {
  for (const w of workloads) {
    const what = `${String(w['kind'])} ${String(obj(w['metadata'], 'metadata')['name'])}`;
    assert.ok(matches(obj(obj(spec(w)['selector'], 'selector')['matchLabels'], 'matchLabels'), podLabels(w)), `${what}: selector does not match its pods`);
    for (const c of containersOf(w)) {
      const ports = list(c['ports'], 'ports').map((p) => obj(p, 'port'));
      const portNames = new Set(ports.map((p) => p['name']));
      for (const probe of ['readinessProbe', 'livenessProbe']) {
        const get = obj(obj(c[probe], `${what} ${probe}`)['httpGet'], `${probe}.httpGet`);
        assert.ok(portNames.has(get['port']), `${what} ${probe} port ${String(get['port'])} is not a container port`);
      }
    }
  }
  for (const svc of services) {
    const name = str(obj(svc['metadata'], 'metadata')['name'], 'name');
    const selected = workloads.filter((w) => matches(obj(spec(svc)['selector'], 'selector'), podLabels(w)));
    assert.equal(selected.length, 1, `Service ${name} selects exactly one workload`);
    const containerPorts = containersOf(first(selected, `Service ${name} workloads`)).flatMap((c) => list(c['ports'], 'ports').map((p) => obj(p, 'port')));
    for (const p of list(spec(svc)['ports'], 'ports').map((x) => obj(x, 'service port'))) {
      const target = containerPorts.find((cp) => cp['name'] === p['targetPort'] || cp['containerPort'] === p['targetPort']);
      assert.ok(target, `Service ${name} targetPort ${String(p['targetPort'])} is no container port`);
      assert.equal(p['port'], target['containerPort'], `Service ${name} exposes the container's own port number`);
    }
  }
});

test('every container: resource requests, non-root, read-only root fs, no privilege escalation; volumes exist', () => {
  for (const w of workloads) {
    const what = `${String(w['kind'])} ${String(obj(w['metadata'], 'metadata')['name'])}`;
    const pod = podSpec(w);
    assert.equal(obj(pod['securityContext'], `${what} pod securityContext`)['runAsNonRoot'], true, `${what} runAsNonRoot`);
    const volumes = new Set([
      ...list(pod['volumes'] ?? [], 'volumes').map((v) => obj(v, 'volume')['name']),
      ...list(spec(w)['volumeClaimTemplates'] ?? [], 'volumeClaimTemplates').map((v) => obj(obj(v, 'claim')['metadata'], 'claim metadata')['name']),
    ]);
    for (const v of list(pod['volumes'] ?? [], 'volumes').map((x) => obj(x, 'volume'))) {
      if (v['configMap'] !== undefined) named('ConfigMap', str(obj(v['configMap'], 'configMap')['name'], 'configMap.name'));
    }
    for (const c of containersOf(w)) {
      const requests = obj(obj(c['resources'], `${what} resources`)['requests'], `${what} requests`);
      assert.ok(typeof requests['cpu'] === 'string' && typeof requests['memory'] === 'string', `${what}: cpu and memory requests`);
      const sc = obj(c['securityContext'], `${what} securityContext`);
      assert.equal(sc['readOnlyRootFilesystem'], true, `${what} readOnlyRootFilesystem`);
      assert.equal(sc['allowPrivilegeEscalation'], false, `${what} allowPrivilegeEscalation`);
      for (const m of list(c['volumeMounts'] ?? [], 'volumeMounts').map((x) => obj(x, 'mount'))) {
        assert.ok(volumes.has(m['name']), `${what} mounts unknown volume ${String(m['name'])}`);
      }
    }
  }
});

test('shardgate: one replica, recreated on rollout, config loads with shardgate\'s own loader and lists the StatefulSet\'s DNS names', () => {
  const deploy = named('Deployment', 'shardgate');
  assert.equal(spec(deploy)['replicas'], 1);
  assert.equal(obj(spec(deploy)['strategy'], 'strategy')['type'], 'Recreate');
  const container = first(containersOf(deploy), 'shardgate containers');
  const configFile = argValue(argsOf(container), '--config.file') ?? assert.fail('no --config.file');
  // The config file is the mounted ConfigMap's key.
  const mount = list(container['volumeMounts'], 'volumeMounts').map((m) => obj(m, 'mount')).find((m) => m['mountPath'] === posix.dirname(configFile));
  const volume = list(podSpec(deploy)['volumes'], 'volumes').map((v) => obj(v, 'volume')).find((v) => v['name'] === mount?.['name']);
  const cmName = str(obj(volume?.['configMap'], 'config volume')['name'], 'configMap name');
  const text = str(obj(named('ConfigMap', cmName)['data'], 'data')[posix.basename(configFile)], `ConfigMap ${cmName} key ${posix.basename(configFile)}`);
  const config = parseConfig(text, 'deploy/kubernetes/shardgate.yml');

  const sts = named('StatefulSet', 'pushgateway');
  const headless = named('Service', str(spec(sts)['serviceName'], 'serviceName'));
  assert.equal(spec(headless)['clusterIP'], 'None');
  const pgPort = num(obj(list(spec(headless)['ports'], 'ports')[0], 'port')['port'], 'port');
  const expected = Array.from({ length: num(spec(sts)['replicas'], 'replicas') }, (_, i) => `pushgateway-${i}.${String(obj(headless['metadata'], 'm')['name'])}.${NAMESPACE}.svc:${pgPort}`);
  assert.deepEqual(config.targets, expected);
  const containerPort = obj(list(container['ports'], 'ports')[0], 'port')['containerPort'];
  assert.equal(config.listenAddress, `:${String(containerPort)}`);
  assert.equal(config.mode, 'proxy');
});

test('pushgateways keep the consistency check and their persistence file on the claimed volume', () => {
  const sts = named('StatefulSet', 'pushgateway');
  const c = first(containersOf(sts), 'pushgateway containers');
  const args = argsOf(c);
  assert.ok(!args.some((a) => a.startsWith('--push.disable-consistency-check')));
  const file = argValue(args, '--persistence.file') ?? assert.fail('no --persistence.file');
  const claims = list(spec(sts)['volumeClaimTemplates'], 'volumeClaimTemplates').map((v) => obj(obj(v, 'claim')['metadata'], 'm')['name']);
  const mount = list(c['volumeMounts'], 'volumeMounts').map((m) => obj(m, 'mount')).find((m) => file.startsWith(`${str(m['mountPath'], 'mountPath')}/`));
  assert.ok(mount && claims.includes(mount['name']), `${file} is not on a volumeClaimTemplate`);
});

test('the Prometheus scrape config passes promtool and discovers the shards from shardgate\'s Service', async (t) => {
  const text = str(configMapData('prometheus-shardgate-scrape')['prometheus.yml'], 'prometheus.yml');
  const dir = await mkdtemp(join(tmpdir(), 'shardgate-promtool-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'prometheus.yml'), text);
  const check = spawnSync('promtool', ['check', 'config', join(dir, 'prometheus.yml')], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);

  const svc = named('Service', 'shardgate');
  const port = num(obj(list(spec(svc)['ports'], 'ports')[0], 'port')['port'], 'port');
  const base = `shardgate.${NAMESPACE}.svc:${port}`;
  const jobs = list(obj(parseYaml(text), 'prometheus.yml')['scrape_configs'], 'scrape_configs').map((j) => obj(j, 'job'));
  const job = (name: string): JsonObject => jobs.find((j) => j['job_name'] === name) ?? assert.fail(`no job ${name}`);
  const sdUrl = (j: JsonObject): unknown => obj(list(j['http_sd_configs'], 'http_sd_configs')[0], 'sd')['url'];
  assert.equal(job('pushgateway')['honor_labels'], true);
  assert.equal(sdUrl(job('pushgateway')), `http://${base}/api/v1/sd`);
  assert.equal(sdUrl(job('pushgateway_groups')), `http://${base}/api/v1/sd`);
  assert.deepEqual(obj(list(job('shardgate')['static_configs'], 's')[0], 's')['targets'], [base]);
});

test('the containers\' args start the real programs, and their probe paths answer as the probes expect', async (t) => {
  // shardgate with the Deployment's args and the ConfigMap's config, its
  // targets (cluster names, which only fail slowly in this sandbox's DNS)
  // replaced by closed loopback ports: alive, not ready.
  const deploy = named('Deployment', 'shardgate');
  const sgc = first(containersOf(deploy), 'shardgate containers');
  let config = str(configMapData('shardgate-config')['shardgate.yml'], 'shardgate.yml');
  for (const target of parseConfig(config).targets) config = config.replace(target, `127.0.0.1:${await freePort()}`);
  const sg = await startShardgate({ config, args: argsOf(sgc) });
  t.after(() => sg.stop());
  const probePath = (c: JsonObject, probe: string): string => str(obj(obj(c[probe], probe)['httpGet'], 'httpGet')['path'], 'path');
  await waitFor(async () => ((await (await fetch(`${sg.url}/api/v1/shards`)).json()) as { data: Array<{ health: string }> }).data.every((s) => s.health === 'down'), { what: 'every shard to be down' });
  assert.equal((await fetch(`${sg.url}${probePath(sgc, 'livenessProbe')}`)).status, 200);
  const ready = await fetch(`${sg.url}${probePath(sgc, 'readinessProbe')}`);
  assert.equal(ready.status, 503);
  assert.match(await ready.text(), /no healthy pushgateway/);

  // Debian's pushgateway with the StatefulSet's args, the volume mapped to a
  // temp dir: both probes answer 200 and SIGTERM leaves the persistence file there.
  const pgc = first(containersOf(named('StatefulSet', 'pushgateway')), 'pushgateway containers');
  const mountPath = str(obj(list(pgc['volumeMounts'], 'volumeMounts')[0], 'mount')['mountPath'], 'mountPath');
  const dir = await mkdtemp(join(tmpdir(), 'shardgate-pgvolume-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const port = await freePort();
  const args = argsOf(pgc).map((a) => (a.startsWith('--web.listen-address=') ? `--web.listen-address=127.0.0.1:${port}` : a.replace(`=${mountPath}/`, `=${dir}/`)));
  const child = spawn(findPushgatewayBinary(), args, { stdio: 'ignore' });
  const exited = new Promise((r) => child.once('exit', r));
  t.after(() => child.kill('SIGKILL'));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}${probePath(pgc, 'readinessProbe')}`).catch(() => undefined))?.status === 200, { what: 'pushgateway readiness' });
  assert.equal((await fetch(`${url}${probePath(pgc, 'livenessProbe')}`)).status, 200);
  assert.equal((await fetch(`${url}/metrics/job/persisted`, { method: 'PUT', body: 'kept 1\n' })).status, 200);
  child.kill('SIGTERM');
  await exited;
  const file = argValue(args, '--persistence.file') ?? assert.fail();
  assert.ok(file.startsWith(`${dir}/`) && existsSync(file), `persistence file ${file} written on the volume`);
});
