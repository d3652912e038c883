/**
 * Reads a push body for forwarding, unparsed. Bodies up to `bufferLimit`
 * bytes (nearly every push) are read whole first: the upstream request then
 * goes out with a content-length in one write, and a client that aborts
 * mid-body is never forwarded at all. A larger body streams through; if its
 * client goes away before the end, the stream sent upstream ends in POISON.
 *
 * No body may exceed `maxBytes`: a buffered one is refused ('too-large')
 * without reading further; a streamed one ends in POISON at the limit and
 * reports it through `exceeded()`, so the caller answers 413 whatever the
 * pushgateway said about the cut body.
 *
 * Why the poison: Node ends an aborted request's stream like a finished one,
 * and Pushgateway applies a body cut at a line boundary, so forwarding the
 * cut body (or just closing the connection) would write a truncated group.
 */
import { type IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';

export type ForwardBody =
  | { readonly kind: 'buffered'; readonly bytes: Buffer }
  | { readonly kind: 'streamed'; readonly stream: Readable; readonly exceeded: () => boolean }
  /** The client went away before sending the whole (small) body. */
  | { readonly kind: 'aborted' }
  /** More than maxBytes arrived while buffering; the rest is left unread. */
  | { readonly kind: 'too-large' };

/**
 * Bytes that make any push body unparsable for Pushgateway: a `{` at the
 * start of a text-format line is an invalid metric name; in a
 * protobuf-delimited body it announces a message longer than what follows;
 * after or inside a gzip member it corrupts the stream.
 */
export const POISON = Buffer.from('\n{');

/** @param bufferLimit read whole up to this size; @param maxBytes refuse beyond this size. */
export function readForwardBody(req: IncomingMessage, bufferLimit: number, maxBytes: number): Promise<ForwardBody> {
  // Plain listeners rather than an async iterator: this runs on every push.
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (body: ForwardBody): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onBroken);
      req.off('close', onClose);
      resolve(body);
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > maxBytes) {
        // Nothing was forwarded yet, so refusing is still possible.
        req.pause();
        done({ kind: 'too-large' });
      } else if (size > bufferLimit) {
        req.pause();
        const rest = new StreamRest(req, maxBytes);
        done({ kind: 'streamed', stream: Readable.from(rest.chunks(chunks, size)), exceeded: () => rest.exceeded });
      }
    };
    const onEnd = (): void => {
      if (!req.complete) return done({ kind: 'aborted' });
      done({ kind: 'buffered', bytes: chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks, size) });
    };
    const onBroken = (): void => done({ kind: 'aborted' });
    const onClose = (): void => {
      if (!req.complete) done({ kind: 'aborted' });
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onBroken);
    req.on('close', onClose);
  });
}

/** The rest of a streamed body: everything up to maxBytes, then POISON if cut. */
class StreamRest {
  exceeded = false;
  readonly #req: IncomingMessage;
  readonly #maxBytes: number;

  constructor(req: IncomingMessage, maxBytes: number) {
    this.#req = req;
    this.#maxBytes = maxBytes;
  }

  async *chunks(head: Buffer[], headSize: number): AsyncGenerator<Buffer> {
    yield* head;
    let size = headSize;
    // A manual iterator: on overflow it is left paused, not returned, because
    // returning it would destroy the socket the 413 must still go out on.
    const it = this.#req[Symbol.asyncIterator]();
    try {
      for (;;) {
        const next = await it.next();
        if (next.done === true) break;
        const chunk = next.value as Buffer;
        size += chunk.length;
        if (size > this.#maxBytes) {
          this.exceeded = true;
          yield POISON;
          return;
        }
        yield chunk;
      }
    } catch {
      // The client's connection broke; fall through to the poison.
    }
    if (!this.#req.complete) yield POISON;
  }
}
