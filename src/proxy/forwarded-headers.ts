/**
 * Which request headers travel to the pushgateway. The body is streamed
 * unparsed, so everything that says how to read it (type, encoding, length)
 * goes along; hop-by-hop headers stay behind.
 */
import { type IncomingHttpHeaders } from 'node:http';

const PASSED = ['content-type', 'content-encoding', 'content-length', 'user-agent', 'authorization'] as const;

export function forwardedHeaders(headers: IncomingHttpHeaders, remoteAddress: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of PASSED) {
    const v = headers[name];
    if (typeof v === 'string') out[name] = v;
  }
  const prior = headers['x-forwarded-for'];
  if (remoteAddress) out['x-forwarded-for'] = typeof prior === 'string' && prior !== '' ? `${prior}, ${remoteAddress}` : remoteAddress;
  return out;
}
