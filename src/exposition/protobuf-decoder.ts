/**
 * Delimited io.prometheus.client.MetricFamily messages (client_model
 * metrics.proto), decoded as Pushgateway's handler does with
 * pbutil.ReadDelimited + proto.Unmarshal: families keyed by name, a later
 * family of the same name replacing an earlier one; unknown fields and
 * fields with an unexpected wire type are skipped; an unknown enum value
 * leaves the type unset (COUNTER, the proto2 default). Only what the
 * consistency check needs is kept (see metric-family.ts). Pure.
 *
 * The framing itself was checked before (proxy/protobuf-framing.ts).
 */
import { isUtf8 } from 'node:buffer';
import { delimitedMessages } from '../proxy/protobuf-framing.js';
import { METRIC_TYPES, type LabelPair, type ParsedFamily, type ParsedMetric, type ParsedPush, VALUE_BIT } from './metric-family.js';

/** What protobuf-go says of malformed wire data; Pushgateway answers it with 400. */
export class ProtobufDecodeError extends Error {
  override readonly name = 'ProtobufDecodeError';
  constructor() {
    super('proto: cannot parse invalid wire-format data');
  }
}

/** Metric's value-message field numbers. */
const VALUE_FIELDS: Readonly<Record<number, number>> = { 2: VALUE_BIT.GAUGE, 3: VALUE_BIT.COUNTER, 4: VALUE_BIT.SUMMARY, 5: VALUE_BIT.UNTYPED, 7: VALUE_BIT.HISTOGRAM };

/** @throws ProtobufDecodeError */
export function parseDelimitedProtobuf(body: Uint8Array): ParsedPush {
  const out: ParsedPush = new Map();
  for (const { message } of delimitedMessages(body)) {
    const family = decodeFamily(message);
    out.set(family.name, family);
  }
  return out;
}

interface Field {
  readonly number: number;
  readonly wire: number;
  /** Varint value (wire 0). */
  readonly varint: bigint;
  /** Payload (wire 2). */
  readonly bytes: Uint8Array;
}

function* fields(msg: Uint8Array): Generator<Field> {
  let at = 0;
  while (at < msg.length) {
    const key = readVarint(msg, at);
    at = key.next;
    const number = Number(key.value >> 3n);
    const wire = Number(key.value & 7n);
    if (number === 0) throw new ProtobufDecodeError();
    switch (wire) {
      case 0: {
        const v = readVarint(msg, at);
        at = v.next;
        yield { number, wire, varint: v.value, bytes: EMPTY };
        break;
      }
      case 1:
      case 5: {
        const size = wire === 1 ? 8 : 4;
        if (at + size > msg.length) throw new ProtobufDecodeError();
        yield { number, wire, varint: 0n, bytes: msg.subarray(at, at + size) };
        at += size;
        break;
      }
      case 2: {
        const len = readVarint(msg, at);
        const end = len.next + Number(len.value);
        if (len.value > BigInt(msg.length) || end > msg.length) throw new ProtobufDecodeError();
        yield { number, wire, varint: 0n, bytes: msg.subarray(len.next, end) };
        at = end;
        break;
      }
      case 3:
        at = skipGroup(msg, at, number);
        break;
      default:
        throw new ProtobufDecodeError();
    }
  }
}

const EMPTY = new Uint8Array(0);

function skipGroup(msg: Uint8Array, at: number, number: number): number {
  for (;;) {
    if (at >= msg.length) throw new ProtobufDecodeError();
    const key = readVarint(msg, at);
    at = key.next;
    const n = Number(key.value >> 3n);
    const wire = Number(key.value & 7n);
    if (wire === 4) {
      if (n !== number) throw new ProtobufDecodeError();
      return at;
    }
    if (wire === 0) at = readVarint(msg, at).next;
    else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else if (wire === 2) {
      const len = readVarint(msg, at);
      at = len.next + Number(len.value);
    } else if (wire === 3) at = skipGroup(msg, at, n);
    else throw new ProtobufDecodeError();
    if (at > msg.length) throw new ProtobufDecodeError();
  }
}

function readVarint(msg: Uint8Array, at: number): { value: bigint; next: number } {
  let value = 0n;
  for (let i = 0; i < 10; i++) {
    const byte = msg[at + i];
    if (byte === undefined) throw new ProtobufDecodeError();
    value |= BigInt(byte & 0x7f) << BigInt(7 * i);
    if (byte < 0x80) return { value: BigInt.asUintN(64, value), next: at + i + 1 };
  }
  throw new ProtobufDecodeError();
}

const utf8 = new TextDecoder();

function decodeFamily(msg: Uint8Array): ParsedFamily {
  let name = '';
  let help: string | undefined;
  let type = METRIC_TYPES[0] ?? 'COUNTER';
  const metrics: ParsedMetric[] = [];
  for (const f of fields(msg)) {
    if (f.number === 1 && f.wire === 2) name = utf8.decode(f.bytes);
    else if (f.number === 2 && f.wire === 2) help = utf8.decode(f.bytes);
    else if (f.number === 3 && f.wire === 0) type = METRIC_TYPES[Number(BigInt.asIntN(32, f.varint))] ?? type;
    else if (f.number === 4 && f.wire === 2) metrics.push(decodeMetric(f.bytes));
  }
  return { name, help, type, metrics };
}

function decodeMetric(msg: Uint8Array): ParsedMetric {
  const labels: LabelPair[] = [];
  let values = 0;
  let hasTimestamp = false;
  for (const f of fields(msg)) {
    if (f.number === 1 && f.wire === 2) labels.push(decodeLabel(f.bytes));
    else if (f.number === 6 && f.wire === 0) hasTimestamp = true;
    else if (f.wire === 2) {
      const bit = VALUE_FIELDS[f.number];
      if (bit !== undefined) {
        for (const inner of fields(f.bytes)) void inner; // validates the nested message's wire format
        values |= bit;
      }
    }
  }
  return { labels, values, hasTimestamp };
}

function decodeLabel(msg: Uint8Array): LabelPair {
  let name = '';
  let value: Uint8Array = EMPTY;
  for (const f of fields(msg)) {
    if (f.number === 1 && f.wire === 2) name = utf8.decode(f.bytes);
    else if (f.number === 2 && f.wire === 2) value = f.bytes;
  }
  return { name, value: utf8.decode(value), utf8: isUtf8(value) };
}
