/**
 * POST semantics applied to two copies of one group: the families of `top`
 * replace the families of the same name in `base`, the others of `base`
 * stay. This is what one pushgateway would hold had the POSTs that built
 * `top` reached the pushgateway that holds `base`. Pure.
 */
import { type ApiGroup, familiesOf } from '../upstream/metrics-api.js';

export function layerGroup(base: ApiGroup, top: ApiGroup): ApiGroup {
  const out: Record<string, ApiGroup[string]> = { labels: top.labels, last_push_successful: top.last_push_successful };
  const topNames = new Set(familiesOf(top).map(([name]) => name));
  for (const [name, family] of familiesOf(base)) if (!topNames.has(name)) out[name] = family;
  for (const [name, family] of familiesOf(top)) out[name] = family;
  return out as ApiGroup;
}
