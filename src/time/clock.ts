/**
 * Time as the background machinery sees it: the current time and timers.
 * Everything that waits (sweeps, retries, rate limits, health-check
 * intervals) takes a Clock, so the deterministic simulation can run hours of
 * schedules in seconds with a virtual one. The system clock's timers never
 * keep the process alive on their own.
 */
export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Runs `fn` once after `ms`; the returned function cancels it. */
  setTimer(fn: () => void, ms: number): () => void;
  /** Resolves after `ms`. */
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  },
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};
