/**
 * Reads the name (field 1) of one io.prometheus.client.MetricFamily
 * message, walking only its top-level fields. Pure: no I/O.
 *
 * Why: Pushgateway 1.5.1 checks neither the names of protobuf-pushed
 * families nor does its consistency check (client_golang's Gather) look at
 * them. A family with an empty name makes its /metrics answer 200 with an
 * empty body (the text encoder stops at the nameless family, after the
 * status went out); one named `a-b` is exposed as is and fails every
 * Prometheus scrape of that pushgateway. Both blind Prometheus to every
 * group on the shard, so shardgate refuses them as the text parser would.
 */
const VALID_METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const NAME_FIELD = 1;

export type FamilyName =
  | { readonly kind: 'name'; readonly name: string }
  /** Not walkable here (groups, bad wire types, cut fields): left to Pushgateway's decoder, which rejects what is malformed. */
  | { readonly kind: 'unreadable' };

export function readFamilyName(message: Uint8Array): FamilyName {
  let at = 0;
  // proto2 semantics: a repeated non-repeated field keeps the last value; absent is "".
  let name = '';
  while (at < message.length) {
    const key = varint(message, at);
    if (key === undefined) return { kind: 'unreadable' };
    at = key.next;
    const field = Math.floor(key.value / 8);
    switch (key.value % 8) {
      case 0: {
        const v = varint(message, at);
        if (v === undefined) return { kind: 'unreadable' };
        at = v.next;
        break;
      }
      case 1:
        at += 8;
        break;
      case 5:
        at += 4;
        break;
      case 2: {
        const length = varint(message, at);
        if (length === undefined || length.next + length.value > message.length) return { kind: 'unreadable' };
        if (field === NAME_FIELD) name = Buffer.from(message.subarray(length.next, length.next + length.value)).toString('utf8');
        at = length.next + length.value;
        break;
      }
      default:
        return { kind: 'unreadable' };
    }
  }
  return at === message.length ? { kind: 'name', name } : { kind: 'unreadable' };
}

export function isValidMetricName(name: string): boolean {
  return VALID_METRIC_NAME.test(name);
}

function varint(bytes: Uint8Array, at: number): { value: number; next: number } | undefined {
  let value = 0;
  for (let i = 0; i < 10; i++) {
    const byte = bytes[at + i];
    if (byte === undefined) return undefined;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if (byte < 0x80) return { value, next: at + i + 1 };
  }
  return undefined;
}
