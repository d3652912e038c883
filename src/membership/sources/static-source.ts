/**
 * The `targets` list of the config file as a source: one answer at start,
 * nothing after (a reload builds a new one). No labels.
 */
import { type MembershipSource, type SourceSink } from '../source.js';

export class StaticSource implements MembershipSource {
  readonly kind = 'static';
  readonly #targets: readonly string[];

  constructor(targets: readonly string[]) {
    this.#targets = targets;
  }

  start(sink: SourceSink): Promise<void> {
    sink.update(this.#targets.map((address) => ({ address, labels: {} })));
    return Promise.resolve();
  }

  stop(): void {
    // Nothing runs in the background.
  }
}
