/**
 * A ring maps a shard key (see groupingkey/grouping-key.ts `shardKey`) to
 * the member that owns it.
 *
 * Contract: a Ring is an immutable value. The same member set gives the same
 * owner for every key in every process, whatever order the members were
 * given in. Membership changes build a new ring; callers diff old and new.
 */
export interface Ring {
  /** Members, sorted, without duplicates. */
  readonly members: readonly string[];
  /** The owner of `shardKey`, or undefined when the ring is empty. */
  owner(shardKey: string): string | undefined;
}
