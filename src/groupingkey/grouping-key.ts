/**
 * A grouping key identifies one metric group on a Pushgateway: the job plus
 * the grouping labels from the push URL. It is a plain frozen record of label
 * name to decoded value and always contains `job` (non-empty).
 *
 * Two keys that differ only in label order are the same key. Two keys that
 * differ only in labels with an empty value (`{job="a"}` vs
 * `{job="a",instance=""}`) are different groups on a Pushgateway but expose
 * identical series, so they share a shard key and always land on one shard.
 */
export type GroupingKey = Readonly<Record<string, string>> & { readonly job: string };

/** Label names sorted the way Pushgateway sorts them (byte order). */
export function sortedLabelNames(key: GroupingKey): string[] {
  const names = Object.keys(key);
  // Keys from the parser are already in order; skip the sort on the hot path.
  for (let i = 1; i < names.length; i++) {
    if (compareBytes(names[i - 1] ?? '', names[i] ?? '') > 0) return names.sort(compareBytes);
  }
  return names;
}

/** A frozen copy of `labels` with its names inserted in sorted order. */
export function sortedKey(labels: Record<string, string> & { job: string }): GroupingKey {
  const out: Record<string, string> = {};
  for (const name of Object.keys(labels).sort(compareBytes)) out[name] = labels[name] ?? '';
  return Object.freeze(out) as GroupingKey;
}

/**
 * The string the ring hashes: every label with a non-empty value, sorted by
 * name. An empty label value is the same as an absent label to Prometheus,
 * so it must not influence placement.
 */
export function shardKey(key: GroupingKey): string {
  let out = '';
  for (const name of sortedLabelNames(key)) {
    const value = key[name];
    if (value === undefined || value === '') continue;
    // name cannot contain '\u0000'; the value is length-prefixed, so the
    // encoding is unambiguous whatever the value holds.
    out += `${name}\u0000${value.length}\u0000${value}\u0000`;
  }
  return out;
}

/** Identity of a group as Pushgateway stores it (empty values included). */
export function groupId(key: GroupingKey): string {
  let out = '';
  for (const name of sortedLabelNames(key)) {
    const value = key[name] ?? '';
    out += `${name}\u0000${value.length}\u0000${value}\u0000`;
  }
  return out;
}

/** Plain-object view, labels sorted, for JSON answers and logs. */
export function toSortedRecord(key: GroupingKey): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of sortedLabelNames(key)) out[name] = key[name] ?? '';
  return out;
}

function compareBytes(a: string, b: string): number {
  // Label names are ASCII ([a-zA-Z_][a-zA-Z0-9_]*), so UTF-16 order is byte order.
  return a < b ? -1 : a > b ? 1 : 0;
}
