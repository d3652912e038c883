/**
 * Serves the status page: static files shipped with the package
 * (src/ui/assets, copied next to this module's compiled form by the build),
 * read once at first use. The page itself is plain HTML, CSS and JS over the
 * JSON API; nothing here renders user data.
 */
import { readFileSync } from 'node:fs';
import { type ServerResponse } from 'node:http';
import { sendText } from '../http/respond.js';

const ASSETS = {
  'index.html': 'text/html; charset=utf-8',
  'status.js': 'text/javascript; charset=utf-8',
  'status.css': 'text/css; charset=utf-8',
} as const;
type AssetName = keyof typeof ASSETS;

/** No inline script or style anywhere, so the page can forbid them. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const cache = new Map<AssetName, Buffer>();

function asset(name: AssetName): Buffer {
  let body = cache.get(name);
  if (body === undefined) {
    body = readFileSync(new URL(`./assets/${name}`, import.meta.url));
    cache.set(name, body);
  }
  return body;
}

/** `GET <prefix>/`. */
export function sendStatusPage(res: ServerResponse): void {
  send(res, 'index.html');
}

/** `GET <prefix>/static/<name>`; 404 for anything but the page's own files. */
export function sendStaticAsset(res: ServerResponse, name: string): void {
  if (name !== 'status.js' && name !== 'status.css') return sendText(res, 404, '404 page not found');
  send(res, name);
}

function send(res: ServerResponse, name: AssetName): void {
  const body = asset(name);
  // A Content-Security-Policy from the web config wins over the page's own.
  if (!res.hasHeader('content-security-policy')) res.setHeader('content-security-policy', CSP);
  res.writeHead(200, { 'content-type': ASSETS[name], 'content-length': body.length, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
  res.end(body);
}
