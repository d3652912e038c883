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
