/**
 * A token bucket that spaces out rebalancing writes so a rebalance never
 * swamps the pushgateways (each write re-checks the whole store there).
 * `take()` resolves when the caller may go; callers queue in order.
 */
import { type Clock } from '../time/clock.js';

export class RateLimiter {
  readonly #clock: Clock;
  #perSecond: number;
  #tokens: number;
  #last: number;
  #queue: Promise<void> = Promise.resolve();

  constructor(perSecond: number, clock: Clock) {
    this.#clock = clock;
    this.#last = clock.now();
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
        await this.#clock.sleep(((1 - this.#tokens) / this.#perSecond) * 1000);
        this.#refill();
      }
      this.#tokens -= 1;
    });
    return this.#queue;
  }

  #refill(): void {
    const now = this.#clock.now();
    this.#tokens = Math.min(Math.max(1, this.#perSecond / 10), this.#tokens + ((now - this.#last) / 1000) * this.#perSecond);
    this.#last = now;
  }
}
