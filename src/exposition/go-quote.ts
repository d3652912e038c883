/**
 * Go's `%q` (strconv.Quote / strconv.QuoteRune) for error messages that
 * must read exactly as Pushgateway's. Printable is Go's unicode.IsPrint:
 * letters, marks, numbers, punctuation, symbols and the ASCII space.
 */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;
const SHORT: Readonly<Record<number, string>> = { 7: '\\a', 8: '\\b', 12: '\\f', 10: '\\n', 13: '\\r', 9: '\\t', 11: '\\v', 92: '\\\\' };

function quoteRuneBody(cp: number, quote: number): string {
  if (cp === quote) return `\\${String.fromCodePoint(cp)}`;
  const short = SHORT[cp];
  if (short !== undefined) return short;
  if (cp === 0x20 || (cp > 0x20 && cp < 0x7f)) return String.fromCodePoint(cp);
  if (cp >= 0x80 && PRINTABLE.test(String.fromCodePoint(cp))) return String.fromCodePoint(cp);
  if (cp < 0x20 || cp === 0x7f) return `\\x${hex(cp, 2)}`;
  if (cp < 0x10000) return `\\u${hex(cp, 4)}`;
  return `\\U${hex(cp, 8)}`;
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** strconv.Quote of a byte string (invalid UTF-8 bytes become \xNN). */
export function goQuoteBytes(bytes: Uint8Array): string {
  let out = '"';
  let i = 0;
  while (i < bytes.length) {
    const decoded = decodeRune(bytes, i);
    if (decoded === undefined) {
      out += `\\x${hex(bytes[i] ?? 0, 2)}`;
      i++;
      continue;
    }
    out += quoteRuneBody(decoded.cp, 0x22);
    i += decoded.size;
  }
  return `${out}"`;
}

export function goQuote(text: string): string {
  return goQuoteBytes(Buffer.from(text, 'utf8'));
}

/** `%q` of a Go byte: strconv.QuoteRune(rune(b)). */
export function goQuoteByte(b: number): string {
  return `'${quoteRuneBody(b, 0x27)}'`;
}

/** One UTF-8 sequence at `i`, or undefined if invalid (Go's utf8.DecodeRune rules). */
function decodeRune(b: Uint8Array, i: number): { cp: number; size: number } | undefined {
  const b0 = b[i] ?? 0;
  if (b0 < 0x80) return { cp: b0, size: 1 };
  const cont = (k: number): number | undefined => {
    const v = b[i + k];
    return v !== undefined && (v & 0xc0) === 0x80 ? v & 0x3f : undefined;
  };
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    const c1 = cont(1);
    return c1 === undefined ? undefined : { cp: ((b0 & 0x1f) << 6) | c1, size: 2 };
  }
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const c1 = cont(1);
    const c2 = cont(2);
    if (c1 === undefined || c2 === undefined) return undefined;
    const cp = ((b0 & 0x0f) << 12) | (c1 << 6) | c2;
    return cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff) ? undefined : { cp, size: 3 };
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const c1 = cont(1);
    const c2 = cont(2);
    const c3 = cont(3);
    if (c1 === undefined || c2 === undefined || c3 === undefined) return undefined;
    const cp = ((b0 & 0x07) << 18) | (c1 << 12) | (c2 << 6) | c3;
    return cp < 0x10000 || cp > 0x10ffff ? undefined : { cp, size: 4 };
  }
  return undefined;
}
