/**
 * Reads a push body for forwarding, unparsed. Bodies up to `bufferLimit`
 * bytes (nearly every push) are read whole first: the upstream request then
 * goes out with a content-length in one write, and a client that aborts
 * mid-body is never forwarded at all. A larger body streams through; if its
 * client goes away before the end, the stream sent upstream ends in POISON.
 *
 * Why the poison: Node ends an aborted request's stream like a finished one,
 * and Pushgateway applies a body cut at a line boundary, so forwarding the
 * cut body (or just closing the connection) would write a truncated group.
 */
import { type IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';

export type ForwardBody =
  | { readonly kind: 'buffered'; readonly bytes: Buffer }
  | { readonly kind: 'streamed'; readonly stream: Readable }
  /** The client went away before sending the whole (small) body. */
  | { readonly kind: 'aborted' };

/**
 * Bytes that make any push body unparsable for Pushgateway: a `{` at the
 * start of a text-format line is an invalid metric name; in a
 * protobuf-delimited body it announces a message longer than what follows;
 * after or inside a gzip member it corrupts the stream.
 */
export const POISON = Buffer.from('\n{');

export function readForwardBody(req: IncomingMessage, bufferLimit: number): Promise<ForwardBody> {
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
      if (size > bufferLimit) {
        req.pause();
        done({ kind: 'streamed', stream: Readable.from(streamRest(chunks, req)) });
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

async function* streamRest(head: Buffer[], req: IncomingMessage): AsyncGenerator<Buffer> {
  yield* head;
  try {
    for await (const chunk of req) yield chunk as Buffer;
  } catch {
    // The client's connection broke; fall through to the poison.
  }
  if (!req.complete) yield POISON;
}
