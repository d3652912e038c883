/**
 * A push body (already gunzipped, see proxy/push-body.ts) parsed the way
 * Pushgateway's push handler chooses: delimited protobuf only for the exact
 * media type and parameters it checks (mime.ParseMediaType), text format
 * 0.0.4 for everything else.
 */
import { type ParsedPush } from './metric-family.js';
import { parseDelimitedProtobuf } from './protobuf-decoder.js';
import { parseText } from './text-parser.js';

/** @throws TextParseError or ProtobufDecodeError, whose messages are Pushgateway's 400 answers. */
export function parsePush(body: Uint8Array, contentType: string | undefined): ParsedPush {
  return isDelimitedProtobuf(contentType) ? parseDelimitedProtobuf(body) : parseText(body);
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Go: mediatype "application/vnd.google.protobuf", encoding=delimited, proto=io.prometheus.client.MetricFamily. */
export function isDelimitedProtobuf(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const [type = '', ...rest] = contentType.split(';');
  if (type.trim().toLowerCase() !== 'application/vnd.google.protobuf') return false;
  const params = new Map<string, string>();
  for (const raw of rest) {
    const part = raw.trim();
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) return false;
    const name = part.slice(0, eq).trim().toLowerCase();
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    else if (!TOKEN.test(value)) return false;
    if (!TOKEN.test(name) || params.has(name)) return false;
    params.set(name, value);
  }
  return params.get('encoding') === 'delimited' && params.get('proto') === 'io.prometheus.client.MetricFamily';
}
