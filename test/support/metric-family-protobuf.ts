/**
 * Encodes io.prometheus.client.MetricFamily messages (client_model's
 * metrics.proto) for tests, delimited as Pushgateway reads them. Only what
 * the tests push: name, help, type, and gauge/counter/untyped samples.
 */
export const PROTOBUF_CONTENT_TYPE = 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';

export type FamilyType = 'COUNTER' | 'GAUGE' | 'UNTYPED';
const TYPE_NUMBER: Record<FamilyType, number> = { COUNTER: 0, GAUGE: 1, UNTYPED: 3 };
/** Metric's field number for each type's value message. */
const VALUE_FIELD: Record<FamilyType, number> = { COUNTER: 3, GAUGE: 2, UNTYPED: 5 };

export interface Family {
  readonly name: string;
  readonly help?: string;
  readonly type: FamilyType;
  readonly metrics: ReadonlyArray<{ readonly labels?: Readonly<Record<string, string>>; readonly value: number }>;
}

export function varint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

/** A length-delimited field (wire type 2). */
function field(number: number, payload: Buffer): Buffer {
  return Buffer.concat([varint((number << 3) | 2), varint(payload.length), payload]);
}

function double(number: number, value: number): Buffer {
  const b = Buffer.alloc(9);
  b[0] = (number << 3) | 1;
  b.writeDoubleLE(value, 1);
  return b;
}

export function encodeFamily(f: Family): Buffer {
  const parts = [field(1, Buffer.from(f.name))];
  if (f.help !== undefined) parts.push(field(2, Buffer.from(f.help)));
  parts.push(Buffer.from([3 << 3, TYPE_NUMBER[f.type]]));
  for (const m of f.metrics) {
    const metric: Buffer[] = [];
    for (const [name, value] of Object.entries(m.labels ?? {})) metric.push(field(1, Buffer.concat([field(1, Buffer.from(name)), field(2, Buffer.from(value))])));
    metric.push(field(VALUE_FIELD[f.type], double(1, m.value)));
    parts.push(field(4, Buffer.concat(metric)));
  }
  return Buffer.concat(parts);
}

/** Messages, each behind its varint length: a Pushgateway protobuf push body. */
export function delimited(messages: readonly Buffer[]): Buffer {
  return Buffer.concat(messages.flatMap((m) => [varint(m.length), m]));
}
