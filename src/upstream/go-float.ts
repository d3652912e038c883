/**
 * Reads a float as Go's `fmt.Sprint(float64)` writes it, which is how every
 * number in Pushgateway's JSON API is spelled: `NaN`, `+Inf`, `-Inf`,
 * `1e-300`, `1.7976931348623157e+308`, `0.25`. JavaScript's `Number()`
 * reads all of these except `+Inf` and `-Inf`.
 *
 * Contract: returns NaN for anything that is not such a float (including
 * the empty string, which `Number()` would read as 0).
 */
export function parseGoFloat(text: string): number {
  switch (text) {
    case '+Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
    case '':
      return NaN;
    default:
      // `Number` accepts hex, octal, binary and `Infinity`, which Go never
      // prints; they only occur in hand-written input and are harmless here.
      return Number(text);
  }
}
