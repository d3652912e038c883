/**
 * How the watching sources (Consul, Kubernetes) pace their requests:
 *  - `Backoff`: after a failure, wait 1 s, 2 s, 4 s … up to a cap, with
 *    jitter so several shardgates do not retry in step; reset on success.
 *  - `TokenBucket`: a loop that would otherwise spin (a Consul index that
 *    keeps moving, a watch the server ends at once) proceeds without waiting
 *    for a short burst and then at most once per interval — the shape
 *    Consul's blocking-query guide asks for ("a token bucket with burst of 2",
 *    https://developer.hashicorp.com/consul/api-docs/features/blocking#implementation-details).
 * Both sleep through `sleep`, which resolves early (false) when aborted.
 */
export interface PacingSettings {
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  /** Token bucket: one token per this many ms, at most `burst` saved. */
  readonly minIntervalMs: number;
  readonly burst: number;
}

export const DEFAULT_PACING: PacingSettings = { initialBackoffMs: 1000, maxBackoffMs: 30_000, minIntervalMs: 1000, burst: 2 };

/** Resolves true after `ms`, or false at once when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export class Backoff {
  readonly #settings: PacingSettings;
  #next: number;

  constructor(settings: PacingSettings) {
    this.#settings = settings;
    this.#next = settings.initialBackoffMs;
  }

  /** The delay before the next retry (full delay ± 20 %), doubling each time. */
  nextDelayMs(): number {
    const base = this.#next;
    this.#next = Math.min(this.#settings.maxBackoffMs, this.#next * 2);
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  reset(): void {
    this.#next = this.#settings.initialBackoffMs;
  }
}

export class TokenBucket {
  readonly #settings: PacingSettings;
  #tokens: number;
  #last = Date.now();

  constructor(settings: PacingSettings) {
    this.#settings = settings;
    this.#tokens = settings.burst;
  }

  /** Waits for a token; false when aborted. */
  async take(signal: AbortSignal): Promise<boolean> {
    this.#refill();
    if (this.#tokens < 1) {
      if (!(await sleep((1 - this.#tokens) * this.#settings.minIntervalMs, signal))) return false;
      this.#refill();
    }
    this.#tokens = Math.max(0, this.#tokens - 1);
    return true;
  }

  #refill(): void {
    const now = Date.now();
    this.#tokens = Math.min(this.#settings.burst, this.#tokens + (now - this.#last) / this.#settings.minIntervalMs);
    this.#last = now;
  }
}
