/**
 * The MembershipSource contract (src/membership/source.ts) as one shared
 * suite: every source runs it against its own backend through a harness.
 * Consul and Kubernetes use it; static, file_sd and DNS can too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type MembershipSource } from '../../../src/membership/source.js';
import { RecordingSink } from './recording-sink.js';
import { waitFor } from '../../support/wait-for.js';

export interface ContractBackend {
  readonly source: MembershipSource;
  /** Makes the backend list exactly these host:port addresses. */
  list(addresses: readonly string[]): void | Promise<void>;
  /** Makes the backend unreachable, and reachable again. */
  breakIt(): Promise<void>;
  repair(): Promise<void>;
}

export type ContractHarness = (t: { after: (fn: () => unknown) => void }, initial: readonly string[]) => Promise<ContractBackend>;

export function sourceContract(name: string, harness: ContractHarness): void {
  test(`${name} (contract): start() resolves once the first answer is reported: the whole set, host:port, no duplicates, valid label names`, async (t) => {
    const backend = await harness(t, ['127.0.0.1:9091', '127.0.0.1:9092']);
    const sink = new RecordingSink();
    await backend.source.start(sink);
    assert.equal(sink.events.length, 1);
    const first = sink.updates()[0] ?? [];
    assert.deepEqual(first.map((x) => x.address).sort(), ['127.0.0.1:9091', '127.0.0.1:9092']);
    for (const target of first) {
      assert.match(target.address, /^(\[[0-9a-f:.]+\]|[^:\s]+):\d+$/i);
      for (const label of Object.keys(target.labels)) assert.match(label, /^[a-zA-Z_][a-zA-Z0-9_]*$/);
    }
  });

  test(`${name} (contract): every change is reported as the whole set`, async (t) => {
    const backend = await harness(t, ['127.0.0.1:9091']);
    const sink = new RecordingSink();
    await backend.source.start(sink);
    await backend.list(['127.0.0.1:9091', '127.0.0.1:9093']);
    await waitFor(() => sink.lastAddresses()?.join() === '127.0.0.1:9091,127.0.0.1:9093', { what: 'the grown set' });
    await backend.list(['127.0.0.1:9093']);
    await waitFor(() => sink.lastAddresses()?.join() === '127.0.0.1:9093', { what: 'the shrunk set' });
  });

  test(`${name} (contract): a failure is reported with failed(), never as an empty set, and the source retries on its own`, async (t) => {
    const backend = await harness(t, ['127.0.0.1:9091']);
    const sink = new RecordingSink();
    await backend.source.start(sink);
    await backend.breakIt();
    await waitFor(() => sink.failures().length > 0, { what: 'a failure' });
    assert.ok(sink.updates().every((u) => u.length > 0));
    await backend.repair();
    await backend.list(['127.0.0.1:9094']);
    await waitFor(() => sink.lastAddresses()?.join() === '127.0.0.1:9094', { what: 'recovery' });
  });

  test(`${name} (contract): after stop() the sink is never called again`, async (t) => {
    const backend = await harness(t, ['127.0.0.1:9091']);
    const sink = new RecordingSink();
    await backend.source.start(sink);
    backend.source.stop();
    const seen = sink.events.length;
    await backend.list(['127.0.0.1:9095']);
    await backend.breakIt();
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(sink.events.length, seen);
  });
}
