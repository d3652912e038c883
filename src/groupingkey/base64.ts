/**
 * Pushgateway's `@base64` encoding: RFC 4648 URL-safe alphabet, padding
 * optional (trailing `=` are stripped before decoding). The empty value is
 * spelled `=`.
 */

const URL_SAFE = /^[A-Za-z0-9_-]*$/;
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

export class Base64Error extends Error {
  override readonly name = 'Base64Error';
}

/**
 * Decodes like Go's `base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))`.
 * Throws Base64Error with Go's wording for input Go would reject.
 */
export function decodeBase64Value(encoded: string): string {
  const s = encoded.replace(/=+$/, '');
  if (!URL_SAFE.test(s)) {
    const at = s.search(/[^A-Za-z0-9_-]/);
    throw new Base64Error(`illegal base64 data at input byte ${at}`);
  }
  if (s.length % 4 === 1) {
    // One dangling sextet cannot encode a byte.
    throw new Base64Error(`illegal base64 data at input byte ${s.length - 1}`);
  }
  const bytes = Buffer.from(s, 'base64url');
  // Go rejects non-canonical trailing bits; re-encoding tells us if they were set.
  if (bytes.toString('base64url') !== s) {
    throw new Base64Error(`illegal base64 data at input byte ${s.length - 1}`);
  }
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    throw new Base64Error('decoded value is not valid UTF-8');
  }
}

export function encodeBase64Value(value: string): string {
  return value === '' ? '=' : Buffer.from(value, 'utf8').toString('base64url');
}
