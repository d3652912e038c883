/**
 * Which request headers travel to the pushgateway. The body is streamed
 * unparsed, so what says how to read it (type, encoding) goes along;
 * hop-by-hop headers stay behind, and so does content-length: the body is
 * always re-sent chunked, so that a body cut short by its client can be
 * completed with bytes Pushgateway rejects (see push-proxy.ts).
 */
import { type IncomingHttpHeaders } from 'node:http';

const PASSED = ['content-type', 'content-encoding', 'user-agent', 'authorization'] as const;

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
