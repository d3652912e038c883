/**
 * Every source built here runs the shared contract suite (source-contract.ts).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StaticSource } from '../../../src/membership/sources/static-source.js';
import { FileSdSource } from '../../../src/membership/sources/file-sd-source.js';
import { DnsSource } from '../../../src/membership/sources/dns-source.js';
import { startDnsmasq } from '../../support/dnsmasq.js';
import { ConsulSource } from '../../../src/membership/sources/consul-source.js';
import { KubernetesSource } from '../../../src/membership/sources/kubernetes-source.js';
import { ConsulFake } from '../../support/consul-fake.js';
import { endpointSlice, KubernetesFake } from '../../support/kubernetes-fake.js';
import { sourceContract } from './source-contract.js';

const FAST = { initialBackoffMs: 20, maxBackoffMs: 200, minIntervalMs: 10, burst: 2 };

sourceContract({
  kind: 'static',
  build: () => Promise.resolve({ source: new StaticSource(['a:1', 'b:2']), first: ['a:1', 'b:2'], cleanup: () => Promise.resolve() }),
});

sourceContract({
  kind: 'file_sd',
  async build() {
    const dir = await mkdtemp(join(tmpdir(), 'shardgate-contract-'));
    const file = join(dir, 'pg.json');
    await writeFile(file, JSON.stringify([{ targets: ['a:1', 'b:2'] }, { targets: ['b:2'] }]));
    return {
      source: new FileSdSource({ files: [join(dir, '*.json')], refreshIntervalMs: 50, settleMs: 10 }),
      first: ['a:1', 'b:2'],
      change: { next: ['c:3'], apply: () => writeFile(file, JSON.stringify([{ targets: ['c:3'] }])) },
      breakIt: () => writeFile(file, '[{'),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  },
});

sourceContract({
  kind: 'dns',
  async build() {
    const dns = await startDnsmasq({ hosts: [['127.0.0.2', 'pg.contract.test'], ['127.0.0.3', 'pg.contract.test']] });
    return {
      // The same name twice: the answer still has each address once.
      source: new DnsSource({ names: ['pg.contract.test', 'pg.contract.test'], type: 'A', port: 9091, refreshIntervalMs: 50, resolver: dns.address, timeoutMs: 200 }),
      first: ['127.0.0.2:9091', '127.0.0.3:9091'],
      change: { next: ['127.0.0.4:9091'], apply: () => dns.setHosts([['127.0.0.4', 'pg.contract.test']]) },
      breakIt: () => dns.kill(),
      cleanup: () => dns.stop(),
    };
  },
});

sourceContract({
  kind: 'consul',
  async build() {
    const consul = new ConsulFake();
    await consul.start();
    // Two instances on one address: one target.
    consul.put({ id: 'a', address: '127.0.0.2', port: 9091 });
    consul.put({ id: 'a-again', address: '127.0.0.2', port: 9091 });
    consul.put({ id: 'b', address: '', nodeAddress: '127.0.0.3', port: 9091 });
    return {
      source: new ConsulSource({ connection: { address: consul.address, token: undefined, basicAuth: undefined, tls: undefined }, service: 'pushgateway', tags: [], datacenter: undefined, waitMs: 5_000, pacing: FAST }),
      first: ['127.0.0.2:9091', '127.0.0.3:9091'],
      change: {
        next: ['127.0.0.4:9091'],
        apply: async () => {
          for (const id of ['a', 'a-again', 'b']) consul.remove(id);
          consul.put({ id: 'c', address: '127.0.0.4', port: 9091 });
        },
      },
      breakIt: () => consul.close(),
      cleanup: () => consul.close(),
    };
  },
});

sourceContract({
  kind: 'kubernetes',
  async build() {
    const k8s = new KubernetesFake();
    await k8s.start();
    // The same address in two slices (allowed while a slice is replaced): one target.
    k8s.apply(endpointSlice('pg-1', { endpoints: [{ ip: '127.0.0.2' }, { ip: '127.0.0.3' }] }));
    k8s.apply(endpointSlice('pg-2', { endpoints: [{ ip: '127.0.0.2' }] }));
    return {
      source: new KubernetesSource({
        api: { server: k8s.url, token: undefined, ca: undefined, cert: undefined, key: undefined, insecureSkipVerify: false, defaultNamespace: undefined },
        namespace: 'monitoring', service: 'pushgateway', portName: undefined, pacing: FAST,
      }),
      first: ['127.0.0.2:9091', '127.0.0.3:9091'],
      change: {
        next: ['127.0.0.4:9091'],
        apply: async () => {
          k8s.delete('pg-2');
          k8s.apply(endpointSlice('pg-1', { endpoints: [{ ip: '127.0.0.4' }] }));
        },
      },
      breakIt: () => k8s.close(),
      cleanup: () => k8s.close(),
    };
  },
});
