/**
 * Prometheus service discovery for the shards: the `http_sd_configs` JSON
 * body (and the same list for `file_sd_configs`). Pure: the coordinator
 * decides which shards hold groups; this renders the list.
 *
 * Rule: every ring member (state `active`), plus every shard outside the
 * ring that is up and still holds groups the routing sends there (a
 * draining shard until it is empty, a drained one that keeps groups that
 * cannot move). A drained, empty shard is not listed.
 *
 * Labels: `__meta_shardgate_shard` and `__meta_shardgate_state`, plus what
 * the membership source knows about the shard (file_sd labels, DNS name,
 * Consul tags, Kubernetes pod...) as `__meta_shardgate_<name>`; shardgate's
 * own two win a clash.
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

export type SourceLabels = (target: string) => Readonly<Record<string, string>>;

const NONE: SourceLabels = () => ({});

export function sdTargetGroups(members: readonly string[], outside: readonly OutsideShard[], sourceLabels: SourceLabels = NONE): SdTargetGroup[] {
  const out: SdTargetGroup[] = members.map((m) => group(m, 'active', sourceLabels));
  for (const s of outside) {
    if (s.up && s.holdsGroups && !members.includes(s.target)) out.push(group(s.target, s.state, sourceLabels));
  }
  return out;
}

function group(target: string, state: string, sourceLabels: SourceLabels): SdTargetGroup {
  const labels: Record<string, string> = {};
  for (const [name, value] of Object.entries(sourceLabels(target)).sort(([a], [b]) => (a < b ? -1 : 1))) labels[`__meta_shardgate_${name}`] = value;
  labels.__meta_shardgate_shard = target;
  labels.__meta_shardgate_state = state;
  return { targets: [target], labels };
}
