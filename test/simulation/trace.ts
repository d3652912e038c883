/**
 * What happened in one schedule: a hash over every line (the determinism
 * check compares it across two runs of a seed) and the last lines kept for
 * violation reports (all of them with `keepAll`, for `--trace`).
 */
export class Trace {
  readonly #keep: number;
  readonly #keepAll: boolean;
  readonly #lines: string[] = [];
  #h1 = 0x811c9dc5;
  #h2 = 0x01000193;
  #count = 0;

  constructor(keep = 40, keepAll = false) {
    this.#keep = keep;
    this.#keepAll = keepAll;
  }

  add(now: number, line: string): void {
    const text = `${(now / 1000).toFixed(3).padStart(9)}s ${line}`;
    this.#count++;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      this.#h1 = Math.imul(this.#h1 ^ c, 0x01000193) >>> 0;
      this.#h2 = Math.imul(this.#h2 ^ c, 0x5bd1e995) >>> 0;
    }
    this.#lines.push(text);
    if (!this.#keepAll && this.#lines.length > this.#keep * 2) this.#lines.splice(0, this.#lines.length - this.#keep);
  }

  /** Hex digest of every line added, in order. */
  get hash(): string {
    return `${this.#h1.toString(16).padStart(8, '0')}${this.#h2.toString(16).padStart(8, '0')}:${this.#count}`;
  }

  /** The last `n` lines (all of them with keepAll and no n). */
  last(n = this.#keep): string[] {
    return this.#keepAll && n === Infinity ? [...this.#lines] : this.#lines.slice(-n);
  }
}
