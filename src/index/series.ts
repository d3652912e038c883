/**
 * How Pushgateway turns a pushed metric into a stored series
 * (storage/diskmetricstore.go `sanitizeLabels`): grouping labels from the
 * URL overwrite body labels of the same name, missing ones are added,
 * `instance=""` is added when there is no instance label, and the pairs are
 * sorted by name. A series' identity is its family name plus those pairs,
 * as client_golang's Gather hashes it to find duplicates. Pure.
 */
import { type GroupingKey } from '../groupingkey/grouping-key.js';
import { type LabelPair } from '../exposition/metric-family.js';

export type Pair = readonly [name: string, value: string];

export function sanitizedLabels(labels: readonly LabelPair[], key: GroupingKey): Pair[] {
  const pending = new Map(Object.entries(key));
  const out: Pair[] = [];
  let hasInstance = false;
  for (const l of labels) {
    const grouping = pending.get(l.name);
    if (grouping !== undefined) {
      out.push([l.name, grouping]);
      pending.delete(l.name);
    } else out.push([l.name, l.value]);
    if (l.name === 'instance') hasInstance = true;
  }
  for (const [name, value] of pending) {
    out.push([name, value]);
    if (name === 'instance') hasInstance = true;
  }
  if (!hasInstance) out.push(['instance', '']);
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/**
 * An injective string for (family name, sorted pairs):
 * `name` then, per pair, `\u0001label=<value length>:value`. Metric and
 * label names never contain `\u0001` or `=` once checked; values are
 * length-prefixed.
 */
export function seriesIdentity(name: string, pairs: readonly Pair[]): string {
  let out = name;
  for (const [n, v] of pairs) out += `\u0001${n}=${v.length}:${v}`;
  return out;
}

export function identityParts(identity: string): { name: string; pairs: Pair[] } {
  let at = identity.indexOf('\u0001');
  const name = at === -1 ? identity : identity.slice(0, at);
  const pairs: Pair[] = [];
  while (at !== -1 && at < identity.length) {
    const eq = identity.indexOf('=', at);
    const colon = identity.indexOf(':', eq);
    const length = Number(identity.slice(eq + 1, colon));
    pairs.push([identity.slice(at + 1, eq), identity.slice(colon + 1, colon + 1 + length)]);
    at = colon + 1 + length;
  }
  return { name, pairs };
}

/** The family name of an identity. */
export function identityName(identity: string): string {
  const at = identity.indexOf('\u0001');
  return at === -1 ? identity : identity.slice(0, at);
}

/** The `{ %s}` part of client_golang's messages: dto.Metric's labels in proto text form (sample values are not kept here). */
export function protoTextLabels(pairs: readonly Pair[]): string {
  return pairs.map(([n, v]) => `label:<name:${JSON.stringify(n)} value:${JSON.stringify(v)} > `).join('');
}

/** `{job="a",instance=""}` for messages. */
export function formatKey(key: GroupingKey): string {
  return `{${Object.entries(key)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([n, v]) => `${n}=${JSON.stringify(v)}`)
    .join(',')}}`;
}
