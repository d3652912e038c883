/**
 * Prometheus service discovery for the shards: the `http_sd_configs` JSON
 * body (and the same list for `file_sd_configs`). Lists the ring's members
 * plus draining shards, which still hold data until they are empty.
 */
import { type TargetStatus } from '../membership/membership.js';

export interface SdTargetGroup {
  readonly targets: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
}

export function sdTargetGroups(members: readonly string[], statuses: readonly TargetStatus[]): SdTargetGroup[] {
  const out: SdTargetGroup[] = members.map((m) => ({ targets: [m], labels: { __meta_shardgate_shard: m, __meta_shardgate_state: 'active' } }));
  for (const s of statuses) {
    // A draining shard that is up still holds groups until it is empty: keep scraping it.
    if (s.draining && s.health === 'up' && !members.includes(s.target)) {
      out.push({ targets: [s.target], labels: { __meta_shardgate_shard: s.target, __meta_shardgate_state: 'draining' } });
    }
  }
  return out;
}
