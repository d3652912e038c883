/**
 * One request/response exchange with a pushgateway through undici's
 * dispatcher API, collecting the (small) answer into a Buffer. This is the
 * push hot path: it skips the Readable stream and promise plumbing that
 * `Pool.request` builds for every call, which the profile showed as a large
 * share of shardgate's own CPU per push.
 *
 * Contract: resolves once with the status, content type and body, or
 * rejects once with undici's error (its `code` tells timeout from refusal).
 */
import { type Dispatcher } from 'undici';
import { type Readable } from 'node:stream';

export interface Exchange {
  readonly statusCode: number;
  readonly contentType: string | undefined;
  readonly body: Buffer;
}

export function exchange(
  dispatcher: Dispatcher,
  opts: { method: string; path: string; headers: Record<string, string>; body: Buffer | Readable | null },
): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    let statusCode = 0;
    let contentType: string | undefined;
    const chunks: Buffer[] = [];
    dispatcher.dispatch(
      { method: opts.method, path: opts.path, headers: opts.headers, body: opts.body },
      {
        // undici 7's Client validates the classic handler shape, so this uses it.
        onConnect() {},
        onHeaders(status, rawHeaders) {
          statusCode = status;
          for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
            if (rawHeaders[i]?.toString('latin1').toLowerCase() === 'content-type') contentType = rawHeaders[i + 1]?.toString('latin1');
          }
          return true;
        },
        onData(chunk) {
          chunks.push(chunk);
          return true;
        },
        onComplete() {
          resolve({ statusCode, contentType, body: chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks) });
        },
        onError(err) {
          reject(err);
        },
      },
    );
  });
}
