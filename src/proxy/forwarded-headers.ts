/**
 * Which request headers travel to the pushgateway. The body goes unparsed,
 * so what says how to read it (type, encoding) goes along; hop-by-hop
 * headers stay behind. content-length is set from the bytes actually read
 * when the body was buffered, and left out (chunked) when it streams.
 * content-encoding stays behind when shardgate decoded the body itself.
 */
import { type IncomingHttpHeaders } from 'node:http';

const PASSED = ['content-type', 'content-encoding', 'user-agent', 'authorization'] as const;

export function forwardedHeaders(headers: IncomingHttpHeaders, remoteAddress: string | undefined, contentLength?: number, decoded = false): Record<string, string> {
  const out: Record<string, string> = {};
  if (contentLength !== undefined) out['content-length'] = String(contentLength);
  for (const name of PASSED) {
    if (decoded && name === 'content-encoding') continue;
    const v = headers[name];
    if (typeof v === 'string') out[name] = v;
  }
  const prior = headers['x-forwarded-for'];
  if (remoteAddress) out['x-forwarded-for'] = typeof prior === 'string' && prior !== '' ? `${prior}, ${remoteAddress}` : remoteAddress;
  return out;
}
