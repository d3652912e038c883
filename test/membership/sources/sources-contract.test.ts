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
import { sourceContract } from './source-contract.js';

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
