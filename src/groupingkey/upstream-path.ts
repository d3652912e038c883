/**
 * The one spelling of a grouping key that shardgate sends upstream and puts
 * in redirects. Plain segments where they survive Go's decoding and path
 * cleaning unchanged; `@base64` for the empty value, values holding `/`, and
 * the dot segments `.` and `..` (which Pushgateway would 301).
 */
import { type GroupingKey, sortedLabelNames } from './grouping-key.js';
import { encodeBase64Value } from './base64.js';

export function upstreamPath(key: GroupingKey): string {
  let out = `/metrics/${segment('job', key.job)}`;
  for (const name of sortedLabelNames(key)) {
    if (name === 'job') continue;
    out += `/${segment(name, key[name] ?? '')}`;
  }
  return out;
}

function segment(name: string, value: string): string {
  if (value === '' || value === '.' || value === '..' || value.includes('/')) {
    return `${name}@base64/${encodeBase64Value(value)}`;
  }
  return `${name}/${encodeURIComponent(value)}`;
}
