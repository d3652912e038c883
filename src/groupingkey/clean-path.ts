/**
 * Go's net/http ServeMux `cleanPath`: path.Clean, but a trailing slash is
 * kept. Pushgateway answers any path that differs from its clean form with a
 * 301 to the clean form, so we do the same and never forward such a path.
 */
export function cleanPath(p: string): string {
  if (p === '') return '/';
  const rooted = p.startsWith('/') ? p : `/${p}`;
  const out: string[] = [];
  for (const seg of rooted.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      out.pop();
      continue;
    }
    out.push(seg);
  }
  let cleaned = `/${out.join('/')}`;
  if (p.endsWith('/') && cleaned !== '/') cleaned += '/';
  return cleaned;
}

/**
 * Go's ServeMux redirect for an unclean path: the Location Go writes
 * (url.URL{Path, RawQuery}.String(): the escaped clean path and the raw
 * query, a bare `?` dropped), or undefined when the path is clean.
 * @param path the decoded path, one char per byte when `bytes` is true
 *   (a path that is not UTF-8 is still cleaned and escaped byte for byte, as Go does).
 */
export function serveMuxRedirect(path: string, rawQuery: string | undefined, bytes = false): string | undefined {
  const clean = cleanPath(path);
  if (clean === path) return undefined;
  return goEscapePath(Buffer.from(clean, bytes ? 'latin1' : 'utf8')) + (rawQuery ? `?${rawQuery}` : '');
}

/** Go's url.PathUnescape to bytes, as a one-char-per-byte string. The caller has rejected bad escapes. */
export function percentDecodeBytes(raw: string): string {
  return raw.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * Go's url.PathEscape for a whole path (`escape(s, encodePath)`): letters,
 * digits, `-_.~` and `$&+,/:;=@` stay; every other byte becomes %XX, upper case.
 */
export function goEscapePath(path: string | Buffer): string {
  let out = '';
  for (const byte of typeof path === 'string' ? Buffer.from(path, 'utf8') : path) {
    const c = String.fromCharCode(byte);
    out += PATH_SAFE.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const PATH_SAFE = /^[A-Za-z0-9\-_.~$&+,/:;=@]$/;
