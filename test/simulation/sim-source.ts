/**
 * A membership source for the simulation that tells the truth (the
 * harness's target list) wrapped in noise: before and after each true
 * answer, and in bursts during the run, it answers with nothing, with a
 * much smaller set, with the set minus one target (flapping), with
 * terminating targets, or fails. Every burst ends with the truth again, so
 * the fleet can settle. Drawn from its own PRNG stream (deterministic).
 */
import { type Clock } from '../../src/time/clock.js';
import { type MembershipSource, type SourceSink, type DiscoveredTarget } from '../../src/membership/source.js';
import { type Prng } from './prng.js';

export class SimSource implements MembershipSource {
  readonly kind = 'sim';
  readonly #clock: Clock;
  readonly #prng: Prng;
  readonly #log: (line: string) => void;
  #truth: readonly string[];
  #sink: SourceSink | undefined;
  #cancels: Array<() => void> = [];

  constructor(clock: Clock, prng: Prng, first: readonly string[], log: (line: string) => void) {
    this.#clock = clock;
    this.#prng = prng;
    this.#truth = first;
    this.#log = log;
  }

  start(sink: SourceSink): Promise<void> {
    this.#sink = sink;
    this.#answer(this.#truth.map((address) => ({ address, labels: {} })));
    // A few bursts of noise during the run, each ending with the truth.
    for (let i = 0; i < 3; i++) this.#burst(this.#prng.int(5_000, 150_000));
    return Promise.resolve();
  }

  stop(): void {
    this.#sink = undefined;
    for (const c of this.#cancels) c();
  }

  /** The harness changed the target list: the truth, then a burst of noise around it. */
  tell(truth: readonly string[]): void {
    this.#truth = truth;
    this.#answer(truth.map((address) => ({ address, labels: {} })));
    this.#burst(this.#prng.int(0, 3_000));
  }

  /** An empty answer (the harness's empty reload). */
  empty(): void {
    this.#answer([]);
  }

  #burst(startMs: number): void {
    let at = startMs;
    const steps = this.#prng.int(1, 4);
    for (let i = 0; i < steps; i++) {
      at += this.#prng.int(500, 12_000);
      const kind = this.#prng.int(0, 4);
      this.#later(at, () => {
        const t = this.#truth;
        if (kind === 0) this.#answer([]);
        else if (kind === 1) this.#answer(this.#prng.shuffled(t).slice(0, 1).map((address) => ({ address, labels: {} })));
        else if (kind === 2) this.#answer(t.filter((x) => x !== this.#prng.pick(t)).map((address) => ({ address, labels: {} })));
        else if (kind === 3) this.#answer(t.map((address) => ({ address, labels: {}, terminating: this.#prng.chance(0.3) })));
        else this.#fail();
      });
    }
    this.#later(at + this.#prng.int(500, 8_000), () => this.#answer(this.#truth.map((address) => ({ address, labels: {} }))));
  }

  #later(ms: number, fn: () => void): void {
    this.#cancels.push(this.#clock.setTimer(fn, ms));
  }

  #answer(targets: readonly DiscoveredTarget[]): void {
    this.#log(`SOURCE answer ${targets.map((t) => `${t.address}${t.terminating === true ? '(terminating)' : ''}`).join(',') || '(empty)'}`);
    this.#sink?.update(targets);
  }

  #fail(): void {
    this.#log('SOURCE failed');
    this.#sink?.failed('simulated outage');
  }
}
