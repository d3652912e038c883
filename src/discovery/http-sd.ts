/**
 * Prometheus service discovery for the shards: the `http_sd_configs` JSON
 * body (and the same list for `file_sd_configs`). Pure: the coordinator
 * decides which shards hold groups; this renders the list.
 *
 * Rule: every ring member (state `active`), plus every shard outside the
 * ring that is up and still holds groups the routing sends there (a
 * draining shard until it is empty, a drained one that keeps groups that
 * cannot move). A drained, empty shard is not listed.
 */
export interface SdTargetGroup {
  readonly targets: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
}

export interface OutsideShard {
  readonly target: string;
  readonly up: boolean;
  readonly state: 'draining' | 'drained';
  readonly holdsGroups: boolean;
}

export function sdTargetGroups(members: readonly string[], outside: readonly OutsideShard[]): SdTargetGroup[] {
  const out: SdTargetGroup[] = members.map((m) => group(m, 'active'));
  for (const s of outside) {
    if (s.up && s.holdsGroups && !members.includes(s.target)) out.push(group(s.target, s.state));
  }
  return out;
}

function group(target: string, state: string): SdTargetGroup {
  return { targets: [target], labels: { __meta_shardgate_shard: target, __meta_shardgate_state: state } };
}
