/**
 * What a push body must satisfy before any byte of it is forwarded, and how
 * it is read (request-body.ts):
 *
 * - No body exceeds the body limit (a declared content-length over it is
 *   refused before reading): 413.
 * - A gzip body (`Content-Encoding: gzip`, any case) is read whole and
 *   decompressed here, bounded by the limit; it is forwarded decompressed,
 *   without the header, so the pushgateway parses exactly the bytes checked.
 * - A protobuf body (media type application/vnd.google.protobuf, whatever
 *   its parameters: a superset of what Pushgateway decodes as protobuf) is
 *   read whole, its delimited framing checked (protobuf-framing.ts) and
 *   each family's name (metric-family-name.ts): 400.
 * - Any other body is text: read whole up to BUFFER_LIMIT, streamed beyond,
 *   cut with POISON at the limit; read whole up to the limit when `whole`
 *   (gateway mode parses every body before forwarding it).
 */
import { type IncomingMessage } from 'node:http';
import { ShardgateError } from '../http/errors.js';
import { readForwardBody, type ForwardBody } from './request-body.js';
import { boundedGunzip } from './bounded-gunzip.js';
import { checkDelimitedFraming, delimitedMessages } from './protobuf-framing.js';
import { isValidMetricName, readFamilyName } from './metric-family-name.js';

/** Text bodies up to this size are read whole before forwarding (see request-body.ts). */
export const BUFFER_LIMIT = 1024 * 1024;

const PROTOBUF_MEDIA_TYPE = 'application/vnd.google.protobuf';

/** A body ready to forward; `decoded` when it was gzip and is now plain. */
export type PushBody = Exclude<ForwardBody, { kind: 'too-large' }> & { readonly decoded?: boolean };

/**
 * @throws ShardgateError SHARDGATE_BODY_TOO_LARGE or SHARDGATE_BAD_BODY; nothing was forwarded then.
 */
export async function readPushBody(req: IncomingMessage, maxBytes: number, whole = false): Promise<PushBody> {
  const declared = Number(req.headers['content-length']);
  if (declared > maxBytes) throw bodyTooLarge(maxBytes);
  const gzip = isGzip(req.headers['content-encoding']);
  const protobuf = isProtobuf(req.headers['content-type']);
  const body = await readForwardBody(req, whole || gzip || protobuf ? maxBytes : BUFFER_LIMIT, maxBytes);
  if (body.kind === 'too-large') throw bodyTooLarge(maxBytes);
  if (body.kind !== 'buffered' || !(gzip || protobuf)) return body;
  let bytes = body.bytes;
  if (gzip) {
    const plain = await boundedGunzip(bytes, maxBytes);
    if (plain.kind === 'too-large') throw bodyTooLarge(maxBytes, ' after gzip decompression');
    if (plain.kind === 'corrupt') throw new ShardgateError('SHARDGATE_BAD_BODY', `gzip: ${plain.reason}`);
    bytes = plain.bytes;
  }
  if (protobuf) {
    const fault = checkDelimitedFraming(bytes, maxBytes);
    if (fault !== undefined) throw new ShardgateError('SHARDGATE_BAD_BODY', fault.message);
    for (const { offset, message } of delimitedMessages(bytes)) {
      const family = readFamilyName(message);
      if (family.kind === 'name' && !isValidMetricName(family.name)) {
        throw new ShardgateError('SHARDGATE_BAD_BODY', `invalid metric name ${JSON.stringify(family.name)} in the protobuf message at byte ${offset}`);
      }
    }
  }
  return { kind: 'buffered', bytes, decoded: gzip };
}

/** Go's http.MaxBytesReader wording, which Go clients and users know. */
export function bodyTooLarge(maxBytes: number, where = ''): ShardgateError {
  return new ShardgateError('SHARDGATE_BODY_TOO_LARGE', `http: request body too large (limit ${maxBytes} bytes${where})`);
}

function isGzip(encoding: string | undefined): boolean {
  return encoding !== undefined && encoding.trim().toLowerCase() === 'gzip';
}

/** Go's mime.ParseMediaType lower-cases and trims the media type; parameters are not needed for a superset. */
function isProtobuf(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const semicolon = contentType.indexOf(';');
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase() === PROTOBUF_MEDIA_TYPE;
}
