/**
 * Which expiry rule a group falls under, and whether it has expired. Pure.
 *
 * Rules are tried in order, the first whose selector matches the grouping
 * key wins; without a match the default applies, if configured, else the
 * group never expires. A group's age runs from its last *client* push: the
 * time this shardgate last acknowledged a PUT or POST of it, when it saw one
 * since it started, else the pushgateway's `push_time_seconds` (which a
 * rebalance move re-stamps: after a restart, a group moved before it looks
 * younger than it is, never older).
 */
import { type Selector, selects } from './selector.js';

export interface ExpiryRule {
  readonly selector: Selector;
  readonly maxAgeMs: number;
}

export interface ExpirySettings {
  readonly intervalMs: number;
  readonly rules: readonly ExpiryRule[];
  /** Max age of groups no rule matches; undefined: they never expire. */
  readonly defaultMaxAgeMs: number | undefined;
}

/** The rule that applies: `name` is the selector text, or "default". */
export interface AppliedRule {
  readonly name: string;
  readonly maxAgeMs: number;
}

export const DEFAULT_RULE = 'default';

export function ruleFor(settings: ExpirySettings, labels: Readonly<Record<string, string>>): AppliedRule | undefined {
  for (const rule of settings.rules) if (selects(rule.selector, labels)) return { name: rule.selector.text, maxAgeMs: rule.maxAgeMs };
  return settings.defaultMaxAgeMs === undefined ? undefined : { name: DEFAULT_RULE, maxAgeMs: settings.defaultMaxAgeMs };
}

export interface PushTimes {
  /** Wall-clock ms when this shardgate last acknowledged a client PUT/POST of the group, if it did since it started. */
  readonly lastClientPushMs: number | undefined;
  /** The group's `push_time_seconds` on its shard, if read (moves re-stamp it). */
  readonly pushTimeSeconds: number | undefined;
}

/** The time a group's age runs from, in wall-clock ms; undefined when nothing is known. */
export function lastPushMs(t: PushTimes): number | undefined {
  if (t.lastClientPushMs !== undefined) return t.lastClientPushMs;
  return t.pushTimeSeconds === undefined ? undefined : t.pushTimeSeconds * 1000;
}

export interface ExpiryDecision {
  readonly rule: AppliedRule | undefined;
  /** Wall-clock ms at which the group expires; undefined: never, or unknown. */
  readonly expiresAtMs: number | undefined;
  readonly expired: boolean;
}

/** Whether the group is older than its rule allows at `nowMs`. */
export function decideExpiry(settings: ExpirySettings, labels: Readonly<Record<string, string>>, times: PushTimes, nowMs: number): ExpiryDecision {
  const rule = ruleFor(settings, labels);
  const last = lastPushMs(times);
  if (rule === undefined || last === undefined) return { rule, expiresAtMs: undefined, expired: false };
  const expiresAtMs = last + rule.maxAgeMs;
  return { rule, expiresAtMs, expired: nowMs > expiresAtMs };
}
