/**
 * Remembers credentials that passed a bcrypt check, so a client that pushes
 * every few seconds pays bcrypt (~90 ms at cost 10) once, not per push, as
 * the exporter-toolkit's cache does. Entries are SHA-256 digests of
 * (user, bcrypt hash, password): no plaintext password is kept, and a reload
 * that changes a user's hash makes its old entries unreachable.
 *
 * Only successes are kept: wrong guesses cannot evict good clients. Bounded;
 * the oldest entry goes first.
 */
import { createHash } from 'node:crypto';

export class VerifiedCredentials {
  readonly #entries = new Set<string>();
  readonly #capacity: number;

  constructor(capacity = 256) {
    this.#capacity = capacity;
  }

  static key(user: string, hash: string, password: string): string {
    return createHash('sha256').update(user).update('\0').update(hash).update('\0').update(password).digest('base64');
  }

  has(key: string): boolean {
    return this.#entries.has(key);
  }

  add(key: string): void {
    if (this.#entries.size >= this.#capacity) {
      const oldest = this.#entries.values().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.add(key);
  }
}
