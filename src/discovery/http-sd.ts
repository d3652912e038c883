/**
 * Prometheus service discovery for the shards: the `http_sd_configs` JSON
 * body (and the same list for `file_sd_configs`). Lists the ring's members
 * plus draining shards, which still hold data until they are empty.
 */
export interface SdTargetGroup {
  readonly targets: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
}

export function sdTargetGroups(members: readonly string[], draining: readonly string[]): SdTargetGroup[] {
  const out: SdTargetGroup[] = members.map((m) => ({ targets: [m], labels: { __meta_shardgate_shard: m, __meta_shardgate_state: 'active' } }));
  for (const d of draining) {
    if (!members.includes(d)) out.push({ targets: [d], labels: { __meta_shardgate_shard: d, __meta_shardgate_state: 'draining' } });
  }
  return out;
}
