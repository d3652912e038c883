/**
 * Who is in the fleet. An implementation decides which configured targets
 * are eligible for the ring (today: static targets + our own health checks;
 * later: Consul, etcd, Kubernetes) and tells listeners when that set changes.
 *
 * Contract: listeners are called synchronously, in registration order, once
 * per change, with the old and new member lists (sorted). `members()` always
 * returns the list the last notification announced.
 */
export type Health = 'unknown' | 'up' | 'down';

export interface TargetStatus {
  readonly target: string;
  readonly health: Health;
  /** RFC 3339 time of the last completed check, or null before the first. */
  readonly lastCheck: string | null;
  readonly lastError: string | null;
  readonly lastCheckDurationSeconds: number | null;
}

export type MembershipListener = (oldMembers: readonly string[], newMembers: readonly string[]) => void;

export interface Membership {
  members(): readonly string[];
  statuses(): readonly TargetStatus[];
  onChange(listener: MembershipListener): void;
}
