/**
 * The DNS source against a real dnsmasq on loopback: A records re-read on
 * SIGHUP, SRV records resolved to their targets' addresses through the same
 * resolver, a name without records (no targets, not a failure), and a
 * server that is gone (a failure: the glue keeps the last set).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DnsSource } from '../../../src/membership/sources/dns-source.js';
import { startDnsmasq } from '../../support/dnsmasq.js';
import { waitFor } from '../../support/wait-for.js';
import { RecordingSink } from './recording-sink.js';

test('A records: every address with the configured port; changes are seen at the next refresh', async (t) => {
  const dns = await startDnsmasq({ hosts: [['127.0.0.2', 'pg.shardgate.test'], ['127.0.0.3', 'pg.shardgate.test']] });
  t.after(() => dns.stop());
  const source = new DnsSource({ names: ['pg.shardgate.test'], type: 'A', port: 9091, refreshIntervalMs: 100, resolver: dns.address, timeoutMs: 300 });
  t.after(() => source.stop());
  const sink = new RecordingSink();
  await source.start(sink);
  assert.deepEqual(sink.addresses(), ['127.0.0.2:9091', '127.0.0.3:9091']);
  const first = sink.last();
  assert.deepEqual(first?.kind === 'update' && first.targets[0]?.labels, { dns_name: 'pg.shardgate.test' });

  await dns.setHosts([['127.0.0.4', 'pg.shardgate.test']], { name: 'pg.shardgate.test', ip: '127.0.0.4' });
  await waitFor(() => sink.addresses()?.join() === '127.0.0.4:9091', { what: 'the new record' });

  // The server goes away: failures, never an empty update.
  await dns.kill();
  await waitFor(() => sink.last()?.kind === 'failed', { what: 'a failure to be reported' });
  const failure = sink.last();
  assert.match(failure?.kind === 'failed' ? failure.reason : '', /DNS .* failed: E[A-Z]+/);
  assert.ok(!sink.reports.some((r) => r.kind === 'update' && r.targets.length === 0));
});

test('SRV records: targets resolved through the same resolver, each with its record\'s port; an unknown name gives no targets', async (t) => {
  const dns = await startDnsmasq({
    srv: [
      { name: '_pushgateway._tcp.shardgate.test', target: 'pg-0.shardgate.test', port: 9091 },
      { name: '_pushgateway._tcp.shardgate.test', target: 'pg-1.shardgate.test', port: 9092 },
    ],
    hostRecords: [['pg-0.shardgate.test', '127.0.0.1'], ['pg-1.shardgate.test', '127.0.0.1']],
  });
  t.after(() => dns.stop());
  const source = new DnsSource({ names: ['_pushgateway._tcp.shardgate.test', 'missing.shardgate.test'], type: 'SRV', port: undefined, refreshIntervalMs: 60_000, resolver: dns.address });
  t.after(() => source.stop());
  const sink = new RecordingSink();
  await source.start(sink);
  assert.deepEqual(sink.addresses(), ['127.0.0.1:9091', '127.0.0.1:9092']);
  const r = sink.last();
  assert.deepEqual(r?.kind === 'update' && r.targets.find((x) => x.address === '127.0.0.1:9092')?.labels, { dns_name: '_pushgateway._tcp.shardgate.test', srv_target: 'pg-1.shardgate.test' });
});
