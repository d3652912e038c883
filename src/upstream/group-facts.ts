/**
 * Facts the rebalancer reads off a group from Pushgateway's JSON API
 * (`GET /api/v1/metrics`): which group it is, and when it was last written.
 * Pure.
 */
import { type GroupingKey } from '../groupingkey/grouping-key.js';
import { type ApiGroup, familiesOf } from './metrics-api.js';
import { parseGoFloat } from './go-float.js';

/** A group whose `labels` cannot be a grouping key (no or empty `job`). */
export class InvalidGroupError extends Error {
  override readonly name = 'InvalidGroupError';
}

/**
 * The group's grouping key, from `group.labels` (Pushgateway lists the key
 * there, empty values included, so `groupId` of the result identifies the
 * group exactly). Returns undefined when there is no non-empty `job`, which
 * Pushgateway never produces.
 */
export function readGroupingKey(group: ApiGroup): GroupingKey | undefined {
  const job = group.labels['job'];
  if (typeof job !== 'string' || job === '') return undefined;
  const key: Record<string, string> & { job: string } = { ...group.labels, job };
  return Object.freeze(key);
}

/** Like readGroupingKey, but throws InvalidGroupError instead of returning undefined. */
export function groupingKeyOf(group: ApiGroup): GroupingKey {
  const key = readGroupingKey(group);
  if (key === undefined) {
    throw new InvalidGroupError(`group has no job label: ${JSON.stringify(group.labels)}`);
  }
  return key;
}

/**
 * The value of the group's `push_time_seconds` gauge (Unix seconds, as the
 * pushgateway's own clock read it on the last successful write), or
 * undefined when the family is missing or its value is not a finite number.
 *
 * Note: a group created by a failed push has `push_time_seconds` 0, which is
 * returned as 0 (older than any real push).
 */
export function pushTimeOf(group: ApiGroup): number | undefined {
  for (const [name, family] of familiesOf(group)) {
    if (name !== 'push_time_seconds') continue;
    const text = family.metrics[0]?.value;
    if (text === undefined) return undefined;
    const seconds = parseGoFloat(text);
    return Number.isFinite(seconds) ? seconds : undefined;
  }
  return undefined;
}
