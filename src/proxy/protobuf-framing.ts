/**
 * Checks the framing of a delimited-protobuf push body before it is
 * forwarded. Pure: no I/O.
 *
 * Pushgateway reads such a body with `pbutil.ReadDelimited` (matttproud/
 * golang_protobuf_extensions v1.0.4): a varint of at most 5 bytes, then
 * `make([]byte, length)` *before* reading the message. A prefix of
 * `ff ff ff ff 0f` therefore makes it allocate 4 GiB, whatever the body
 * holds. Every prefix must here be a well-formed varint of at most 5 bytes,
 * announce no more than the body limit, and fit in the bytes actually sent;
 * the last message must end exactly at the end of the body.
 *
 * Not checked here: the messages' insides. Pushgateway unmarshals each one
 * from the slice it already holds (google.golang.org/protobuf), which checks
 * every nested length against that slice and never allocates from one, so a
 * message costs no more than a bounded multiple of its own bytes. (Family
 * names are checked separately: metric-family-name.ts.)
 */

/** Why a body is refused; `message` is the 400 answer. */
export interface FramingError {
  /** Byte offset of the length prefix at fault. */
  readonly offset: number;
  readonly message: string;
}

/** `binary.MaxVarintLen32`: ReadDelimited gives up after this many prefix bytes. */
const MAX_PREFIX_BYTES = 5;

/**
 * @param body the whole body, after any gzip decoding (what Pushgateway parses).
 * @param limit the largest message length accepted (the body limit).
 * @returns undefined when every message is well framed, else the first fault.
 */
export function checkDelimitedFraming(body: Uint8Array, limit: number): FramingError | undefined {
  let offset = 0;
  while (offset < body.length) {
    const prefix = readVarint(body, offset);
    if (prefix.kind === 'truncated') {
      return { offset, message: `invalid protobuf framing: length prefix at byte ${offset} is cut off by the end of the body` };
    }
    if (prefix.kind === 'too-long') {
      return { offset, message: `invalid protobuf framing: invalid varint32 encountered at byte ${offset}` };
    }
    const start = offset + prefix.bytes;
    if (prefix.value > limit) {
      return { offset, message: `invalid protobuf framing: message at byte ${offset} announces ${prefix.value} bytes, more than the body limit of ${limit} bytes` };
    }
    if (prefix.value > body.length - start) {
      return { offset, message: `invalid protobuf framing: message at byte ${offset} announces ${prefix.value} bytes, but only ${body.length - start} follow` };
    }
    offset = start + prefix.value;
  }
  return undefined;
}

/** The messages of a body that passed checkDelimitedFraming, with their offsets. */
export function* delimitedMessages(body: Uint8Array): Generator<{ readonly offset: number; readonly message: Uint8Array }> {
  let offset = 0;
  while (offset < body.length) {
    const prefix = readVarint(body, offset);
    if (prefix.kind !== 'ok') return;
    const start = offset + prefix.bytes;
    yield { offset, message: body.subarray(start, start + prefix.value) };
    offset = start + prefix.value;
  }
}

type Varint =
  | { readonly kind: 'ok'; readonly value: number; readonly bytes: number }
  | { readonly kind: 'truncated' }
  | { readonly kind: 'too-long' };

/** Reads a varint as proto.DecodeVarint does on at most 5 bytes (values up to 2^35 - 1). */
function readVarint(body: Uint8Array, at: number): Varint {
  let value = 0;
  for (let i = 0; i < MAX_PREFIX_BYTES; i++) {
    const byte = body[at + i];
    if (byte === undefined) return { kind: 'truncated' };
    // Multiplication, not shifts: 35 bits do not fit a 32-bit shift.
    value += (byte & 0x7f) * 2 ** (7 * i);
    if (byte < 0x80) return { kind: 'ok', value, bytes: i + 1 };
  }
  return { kind: 'too-long' };
}
