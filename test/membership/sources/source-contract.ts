/**
 * The MembershipSource contract (src/membership/source.ts), as one suite
 * every source runs (static, file_sd, dns here; consul and kubernetes add
 * their own `SourceCase`). Each case builds a source over a world it can
 * make answer a second target set, and fail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type MembershipSource } from '../../../src/membership/source.js';
import { waitFor } from '../../support/wait-for.js';
import { RecordingSink } from './recording-sink.js';

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}$/;

export interface SourceWorld {
  /** A source whose first answer is `first`, refreshing quickly. */
  readonly source: MembershipSource;
  readonly first: readonly string[];
  /** Makes the source's backend answer `next` (absent for a source that never changes). */
  readonly change?: { readonly next: readonly string[]; apply(): Promise<void> };
  /** Makes the backend fail (absent when it cannot fail). */
  readonly breakIt?: () => Promise<void>;
  cleanup(): Promise<void>;
}

export interface SourceCase {
  readonly kind: string;
  build(): Promise<SourceWorld>;
}

export function sourceContract(c: SourceCase): void {
  test(`${c.kind} source: start() resolves after the first answer; whole sets of unique host:port; failures never report an empty set; nothing after stop()`, async (t) => {
    const w = await c.build();
    t.after(() => w.cleanup());
    const sink = new RecordingSink();
    assert.equal(w.source.kind, c.kind);
    await w.source.start(sink);
    try {
      assert.deepEqual(sink.addresses(), [...w.first].sort(), 'the first answer, before start() resolved');
      if (w.change) {
        await w.change.apply();
        const next = [...w.change.next].sort().join();
        await waitFor(() => sink.addresses()?.join() === next, { what: `${c.kind} to report the changed set` });
      }
      for (const r of sink.reports) {
        if (r.kind !== 'update') continue;
        const addresses = r.targets.map((x) => x.address);
        assert.equal(new Set(addresses).size, addresses.length, 'no duplicates');
        for (const a of addresses) assert.match(a, HOST_PORT);
      }
      if (w.breakIt) {
        const before = sink.reports.length;
        const lastGood = sink.addresses()?.join();
        await w.breakIt();
        await waitFor(() => sink.last()?.kind === 'failed', { what: `${c.kind} to report a failure` });
        // A failure is never reported as an update: the only updates meanwhile repeat the last good set
        // (a refresh that read the backend before it broke; the contract allows a repeated answer).
        for (const r of sink.reports.slice(before)) {
          if (r.kind === 'update') assert.equal(r.targets.map((x) => x.address).sort().join(), lastGood, 'a failure is not an update');
        }
      }
    } finally {
      w.source.stop();
    }
    const reports = sink.reports.length;
    // Several refresh intervals: nothing may be reported any more (an absence cannot be polled for).
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(sink.reports.length, reports, 'no report after stop()');
  });
}
