/** A SourceSink that records what a membership source reported, in order. */
import { type DiscoveredTarget, type SourceSink } from '../../src/membership/source.js';

export type SinkEvent = { readonly kind: 'update'; readonly targets: readonly DiscoveredTarget[] } | { readonly kind: 'failed'; readonly reason: string };

export class RecordingSink implements SourceSink {
  readonly events: SinkEvent[] = [];

  update(targets: readonly DiscoveredTarget[]): void {
    this.events.push({ kind: 'update', targets });
  }

  failed(reason: string): void {
    this.events.push({ kind: 'failed', reason });
  }

  /** The addresses of the last update, sorted; undefined before the first. */
  lastAddresses(): string[] | undefined {
    const last = this.updates().at(-1);
    return last ? last.map((t) => t.address).sort() : undefined;
  }

  updates(): (readonly DiscoveredTarget[])[] {
    return this.events.flatMap((e) => (e.kind === 'update' ? [e.targets] : []));
  }

  failures(): string[] {
    return this.events.flatMap((e) => (e.kind === 'failed' ? [e.reason] : []));
  }
}
