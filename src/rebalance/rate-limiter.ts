/**
 * A token bucket that spaces out rebalancing writes so a rebalance never
 * swamps the pushgateways (each write re-checks the whole store there).
 * `take()` resolves when the caller may go; callers queue in order.
 */
export class RateLimiter {
  #perSecond: number;
  #tokens: number;
  #last = performance.now();
  #queue: Promise<void> = Promise.resolve();

  constructor(perSecond: number) {
    this.#perSecond = perSecond;
    this.#tokens = Math.min(perSecond, 1);
  }

  set perSecond(n: number) {
    this.#perSecond = n;
  }

  take(): Promise<void> {
    this.#queue = this.#queue.then(async () => {
      this.#refill();
      if (this.#tokens < 1) {
        await new Promise((r) => setTimeout(r, ((1 - this.#tokens) / this.#perSecond) * 1000));
        this.#refill();
      }
      this.#tokens -= 1;
    });
    return this.#queue;
  }

  #refill(): void {
    const now = performance.now();
    this.#tokens = Math.min(Math.max(1, this.#perSecond / 10), this.#tokens + ((now - this.#last) / 1000) * this.#perSecond);
    this.#last = now;
  }
}
