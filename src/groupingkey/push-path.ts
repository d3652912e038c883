/**
 * Routes a request path under `/metrics/` the way Pushgateway 1.x does
 * (Go's ServeMux path cleaning, then httprouter, then `handler/push.go`'s
 * `splitLabels`), so that every spelling of a group resolves to the same
 * grouping key and every malformed one gets Pushgateway's own answer.
 *
 * Pure: no I/O. Contract: a `key` result is always valid (non-empty job,
 * proper label names), and nothing else ever reaches an upstream.
 */
import { type GroupingKey, sortedKey } from './grouping-key.js';
import { Base64Error, decodeBase64Value } from './base64.js';
import { goEscapePath, serveMuxRedirect } from './clean-path.js';

export type PushRoute =
  | { readonly kind: 'key'; readonly key: GroupingKey }
  /** Go's ServeMux: an unclean path gets a 301 to its clean form, whatever the method. */
  | { readonly kind: 'redirect'; readonly status: 301; readonly location: string }
  /**
   * httprouter's fixes (a trailing slash after /job, the letter case of
   * `/metrics/job`): a 307 for PUT, POST and DELETE, the methods with push
   * routes; any other method gets 404.
   */
  | { readonly kind: 'fix'; readonly location: string }
  | { readonly kind: 'not-found' };

/** A push URL Pushgateway would answer with 400; `message` is its wording. */
export class GroupingKeyError extends Error {
  override readonly name = 'GroupingKeyError';
}

const BASE64_SUFFIX = '@base64';
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const JOB_PLAIN = '/metrics/job/';
const JOB_BASE64 = '/metrics/job@base64/';

/**
 * @param rawPath the request path as received, still percent-encoded, no query.
 * @param rawQuery the query string without `?` (kept on redirects); undefined when the URL has no `?`.
 * @throws GroupingKeyError for input Pushgateway rejects with 400.
 */
export function routePushPath(rawPath: string, rawQuery?: string): PushRoute {
  const path = percentDecode(rawPath);
  const redirect = serveMuxRedirect(path, rawQuery);
  if (redirect !== undefined) return { kind: 'redirect', status: 301, location: redirect };
  let jobIsBase64: boolean;
  let rest: string;
  if (path.startsWith(JOB_BASE64)) {
    jobIsBase64 = true;
    rest = path.slice(JOB_BASE64.length);
  } else if (path.startsWith(JOB_PLAIN)) {
    jobIsBase64 = false;
    rest = path.slice(JOB_PLAIN.length);
  } else {
    return caseFix(path, rawQuery);
  }
  if (rest === '') {
    // httprouter: "/metrics/job/" redirects to "/metrics/job", which is not a route.
    return jobIsBase64 ? { kind: 'not-found' } : { kind: 'fix', location: routerLocation('/metrics/job', rawQuery) };
  }
  const slash = rest.indexOf('/');
  let job = slash === -1 ? rest : rest.slice(0, slash);
  const labelsString = slash === -1 ? '' : rest.slice(slash);

  if (jobIsBase64) {
    try {
      job = decodeBase64Value(job);
    } catch (err) {
      throw new GroupingKeyError(`invalid base64 encoding in job name ${goQuote(job)}: ${reason(err)}`);
    }
  }
  const labels = splitLabels(labelsString);
  if (job === '') throw new GroupingKeyError('job name is required');
  // The path's job always wins over a `job` pair in the label part.
  labels.job = job;
  return { kind: 'key', key: sortedKey(labels as Record<string, string> & { job: string }) };
}

/** `handler/push.go` splitLabels: "/n1/v1/n2@base64/v2..." into a map; the last repeat wins. */
function splitLabels(labels: string): Record<string, string> {
  const result: Record<string, string> = Object.create(null) as Record<string, string>;
  if (labels.length <= 1) return result;
  const components = labels.slice(1).split('/');
  if (components.length % 2 !== 0) {
    throw new GroupingKeyError(`odd number of components in label string ${goQuote(labels)}`);
  }
  for (let i = 0; i < components.length; i += 2) {
    const name = components[i] ?? '';
    const value = components[i + 1] ?? '';
    const isBase64 = name.endsWith(BASE64_SUFFIX);
    const trimmed = isBase64 ? name.slice(0, -BASE64_SUFFIX.length) : name;
    if (!LABEL_NAME.test(trimmed) || trimmed.startsWith('__')) {
      throw new GroupingKeyError(`improper label name ${goQuote(trimmed)}`);
    }
    if (!isBase64) {
      result[trimmed] = value;
      continue;
    }
    try {
      result[trimmed] = decodeBase64Value(value);
    } catch (err) {
      throw new GroupingKeyError(`invalid base64 encoding for label ${trimmed}=${goQuote(value)}: ${reason(err)}`);
    }
  }
  return result;
}

/** Go's url.PathUnescape: %XX must be two hex digits. The result must be UTF-8. */
function percentDecode(raw: string): string {
  if (!raw.includes('%')) return raw;
  const bad = /%(?![0-9A-Fa-f]{2})/.exec(raw);
  if (bad) throw new GroupingKeyError(`invalid URL escape ${goQuote(raw.slice(bad.index, bad.index + 3))}`);
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new GroupingKeyError('invalid URL: path is not valid UTF-8');
  }
}

/**
 * httprouter's RedirectFixedPath, as it behaves on Pushgateway's push routes
 * (measured on 1.5.1): `/metrics/job/` in any letter case followed by a job
 * is fixed; `/metrics/job@base64/` in any case only when nothing follows the
 * job (its tree walk fails on the catch-all there).
 */
function caseFix(path: string, rawQuery: string | undefined): PushRoute {
  const lower = asciiLower(path);
  for (const [prefix, jobOnly] of [[JOB_PLAIN, false], [JOB_BASE64, true]] as const) {
    if (!lower.startsWith(prefix)) continue;
    const rest = path.slice(prefix.length);
    if (rest === '' || rest.startsWith('/') || (jobOnly && rest.includes('/'))) return { kind: 'not-found' };
    return { kind: 'fix', location: routerLocation(prefix + rest, rawQuery) };
  }
  return { kind: 'not-found' };
}

/** Case-folds ASCII letters only, as httprouter compares the static segments. */
function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** httprouter redirects with req.URL.String(): the escaped path and the raw query, a bare `?` kept. */
function routerLocation(path: string, rawQuery: string | undefined): string {
  return goEscapePath(path) + (rawQuery === undefined ? '' : `?${rawQuery}`);
}

/** Approximates Go's %q for the messages Pushgateway prints. */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

function reason(err: unknown): string {
  return err instanceof Base64Error ? err.message : String(err);
}
