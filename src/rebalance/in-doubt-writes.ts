/**
 * Writes in doubt: a PUT or POST that reached a pushgateway whose answer
 * never came (response timeout, connection reset after sending). The
 * pushgateway may apply it at any later moment (a paused process that
 * resumes), or never. Either outcome is allowed to the client, which was
 * not told "accepted", but the copy ledger cannot tell which one happened,
 * so a base copy merged under a late-applied PUT would resurrect families
 * the PUT removed (docs/rebalancing.md, "In-doubt writes").
 *
 * shardgate removes the doubt by completing the write itself: it keeps the
 * request and re-sends it (idempotent: the same PUT or POST body) to the
 * group's home, as an acknowledged write, before the group's next client
 * POST and at the start of every rebalance round. A later acknowledged PUT
 * or DELETE of the group supersedes it. Then the group's history is one a
 * single pushgateway could have had, with the write applied in its place.
 *
 * Bounded: at most `maxEntries` writes and `maxBytes` of bodies; beyond
 * that the oldest is forgotten (counted), which falls back to the ledger's
 * behaviour without completion for that group.
 */
import { type GroupingKey } from '../groupingkey/grouping-key.js';

/** Re-sends the kept request to `target`; resolves with the pushgateway's status. */
export type Resend = (target: string, path: string) => Promise<{ readonly statusCode: number }>;

export interface InDoubtWrite {
  readonly key: GroupingKey;
  readonly method: 'PUT' | 'POST';
  readonly resend: Resend;
  readonly bytes: number;
}

export class InDoubtWrites {
  readonly #writes = new Map<string, InDoubtWrite>();
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  #bytes = 0;
  #forgotten = 0;

  constructor(limits: { readonly maxEntries: number; readonly maxBytes: number } = { maxEntries: 10_000, maxBytes: 64 * 2 ** 20 }) {
    this.#maxEntries = limits.maxEntries;
    this.#maxBytes = limits.maxBytes;
  }

  /** The group's latest write in doubt replaces an earlier one: completing it alone is an allowed history. */
  remember(id: string, write: InDoubtWrite): void {
    this.forget(id);
    if (write.bytes > this.#maxBytes) {
      this.#forgotten++;
      return;
    }
    this.#writes.set(id, write);
    this.#bytes += write.bytes;
    for (const [oldest, w] of this.#writes) {
      if (this.#writes.size <= this.#maxEntries && this.#bytes <= this.#maxBytes) break;
      this.#writes.delete(oldest);
      this.#bytes -= w.bytes;
      this.#forgotten++;
    }
  }

  get(id: string): InDoubtWrite | undefined {
    return this.#writes.get(id);
  }

  /** Completed, or superseded by an acknowledged PUT or DELETE. */
  forget(id: string): void {
    const w = this.#writes.get(id);
    if (w === undefined) return;
    this.#writes.delete(id);
    this.#bytes -= w.bytes;
  }

  ids(): string[] {
    return [...this.#writes.keys()];
  }

  get size(): number {
    return this.#writes.size;
  }

  /** Writes dropped to stay within the bounds, since start. */
  get forgotten(): number {
    return this.#forgotten;
  }
}
