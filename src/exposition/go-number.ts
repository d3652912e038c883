/**
 * Numbers as Go's strconv reads them in the text parser: the sample value
 * (`parseFloat`: strconv.ParseFloat(s, 64) minus `p`, `P` and `_`) and the
 * timestamp (strconv.ParseInt(s, 10, 64)). Both return undefined where Go
 * returns an error.
 */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
/** Hexadecimal floats need a `p` exponent in Go, which parseFloat refuses: no hex form passes. */
const SPECIAL = /^(?:[+-]?(?:inf|infinity)|nan)$/i;

export function parseGoFloat(s: string): number | undefined {
  if (/[pP_]/.test(s)) return undefined;
  if (SPECIAL.test(s)) {
    const lower = s.toLowerCase();
    return lower === 'nan' ? NaN : lower.startsWith('-') ? -Infinity : Infinity;
  }
  if (!DECIMAL.test(s)) return undefined;
  const value = Number(s);
  // ErrRange: a finite literal beyond float64 (underflow to 0 is no error in Go).
  return Number.isFinite(value) ? value : undefined;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export function parseGoInt64(s: string): bigint | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const v = BigInt(s);
  return v < INT64_MIN || v > INT64_MAX ? undefined : v;
}
