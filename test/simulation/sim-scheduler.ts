/**
 * Virtual time for the simulation: a priority queue of events ordered by
 * virtual time, ties broken by a seeded draw (then by insertion order), and
 * the `Clock` the system under test runs on.
 *
 * Determinism contract: the harness runs one event at a time and, after
 * each, lets every promise job the event started run to completion before
 * the next event (`flush`). Nothing in the driven code may use a real timer
 * or real I/O: then a seed fixes the whole interleaving. One `setImmediate`
 * is enough to flush, because Node drains the whole microtask queue (jobs
 * queued by jobs included) before it reaches the check phase.
 */
import { type Clock } from '../../src/time/clock.js';
import { type Prng } from './prng.js';

interface SimEvent {
  readonly at: number;
  readonly tie: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

export class SimScheduler {
  readonly #heap: SimEvent[] = [];
  readonly #prng: Prng;
  #now = 0;
  #seq = 0;
  #ran = 0;

  /** The Clock of the system under test: its timers are events of this queue. */
  readonly clock: Clock = {
    now: () => this.#now,
    setTimer: (fn, ms) => this.at(this.#now + Math.max(0, ms), fn),
    sleep: (ms) => new Promise<void>((resolve) => void this.at(this.#now + Math.max(0, ms), resolve)),
  };

  constructor(prng: Prng) {
    this.#prng = prng;
  }

  get now(): number {
    return this.#now;
  }

  /** Events run so far. */
  get eventsRun(): number {
    return this.#ran;
  }

  /** Virtual time of the next live event, or undefined when none is queued. */
  get nextAt(): number | undefined {
    this.#dropCancelled();
    return this.#heap[0]?.at;
  }

  /** Runs `fn` at virtual time `at` (never in the past); the result cancels it. */
  at(at: number, fn: () => void): () => void {
    const ev: SimEvent = { at: Math.max(at, this.#now), tie: this.#prng.u32(), seq: this.#seq++, fn, cancelled: false };
    this.#push(ev);
    return () => void (ev.cancelled = true);
  }

  after(ms: number, fn: () => void): () => void {
    return this.at(this.#now + ms, fn);
  }

  /**
   * Runs the next event (advancing virtual time to it) and flushes the
   * promise jobs it started. Returns false when the queue is empty or the
   * next event lies beyond `limit`.
   */
  async step(limit = Infinity): Promise<boolean> {
    this.#dropCancelled();
    const ev = this.#heap[0];
    if (ev === undefined || ev.at > limit) return false;
    this.#pop();
    this.#now = ev.at;
    this.#ran++;
    ev.fn();
    await flush();
    return true;
  }

  /** Moves virtual time forward to `t` without running anything (no event may lie before it). */
  advanceTo(t: number): void {
    if (t > this.#now) this.#now = t;
  }

  #dropCancelled(): void {
    while (this.#heap[0]?.cancelled === true) this.#pop();
  }

  #push(ev: SimEvent): void {
    const h = this.#heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(ev, h[parent] as SimEvent)) break;
      h[i] = h[parent] as SimEvent;
      i = parent;
    }
    h[i] = ev;
  }

  #pop(): void {
    const h = this.#heap;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const child = r < h.length && before(h[r] as SimEvent, h[l] as SimEvent) ? r : l;
      if (!before(h[child] as SimEvent, last)) break;
      h[i] = h[child] as SimEvent;
      i = child;
    }
    h[i] = last;
  }
}

/** Lets every queued promise job run (see the determinism contract above). */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function before(a: SimEvent, b: SimEvent): boolean {
  if (a.at !== b.at) return a.at < b.at;
  if (a.tie !== b.tie) return a.tie < b.tie;
  return a.seq < b.seq;
}
