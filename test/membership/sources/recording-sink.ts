/**
 * A SourceSink that records what a source reported, for the sources' tests.
 */
import { type DiscoveredTarget, type SourceSink } from '../../../src/membership/source.js';

export type Report = { readonly kind: 'update'; readonly targets: readonly DiscoveredTarget[] } | { readonly kind: 'failed'; readonly reason: string };

export class RecordingSink implements SourceSink {
  readonly reports: Report[] = [];

  update(targets: readonly DiscoveredTarget[]): void {
    this.reports.push({ kind: 'update', targets });
  }

  failed(reason: string): void {
    this.reports.push({ kind: 'failed', reason });
  }

  last(): Report | undefined {
    return this.reports.at(-1);
  }

  /** Addresses of the last update, sorted; undefined if the last report was a failure. */
  addresses(): string[] | undefined {
    const r = this.last();
    return r?.kind === 'update' ? r.targets.map((t) => t.address).sort() : undefined;
  }

  /** The reports, in order (alias used by the Consul/Kubernetes tests and the contract suite). */
  get events(): readonly Report[] {
    return this.reports;
  }

  /** Addresses of the last update, sorted, even if failures came after it; undefined before the first. */
  lastAddresses(): string[] | undefined {
    return this.updates().at(-1)?.map((t) => t.address).sort();
  }

  updates(): (readonly DiscoveredTarget[])[] {
    return this.reports.flatMap((r) => (r.kind === 'update' ? [r.targets] : []));
  }

  failures(): string[] {
    return this.reports.flatMap((r) => (r.kind === 'failed' ? [r.reason] : []));
  }
}
