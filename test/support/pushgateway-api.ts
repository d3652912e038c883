/** Reads a real pushgateway's state for assertions. */
import { type ApiGroup, familiesOf } from '../../src/upstream/metrics-api.js';

export async function groupsOn(url: string): Promise<ApiGroup[]> {
  const res = await fetch(`${url}/api/v1/metrics`);
  const body = (await res.json()) as { data: ApiGroup[] };
  return body.data;
}

/** Every copy of every group of `job` on the pushgateways at `targets`, by instance label. */
export async function copiesOfJob(targets: ReadonlyArray<{ readonly target: string; readonly url: string }>, job: string): Promise<Map<string, Array<{ target: string; group: ApiGroup }>>> {
  const out = new Map<string, Array<{ target: string; group: ApiGroup }>>();
  for (const pg of targets) {
    for (const g of await groupsOn(pg.url)) {
      if (g.labels['job'] !== job) continue;
      const inst = g.labels['instance'] ?? '';
      out.set(inst, [...(out.get(inst) ?? []), { target: pg.target, group: g }]);
    }
  }
  return out;
}

/** Groups on `url` whose grouping labels equal `labels` exactly. */
export async function findGroup(url: string, labels: Record<string, string>): Promise<ApiGroup | undefined> {
  const want = JSON.stringify(sorted(labels));
  return (await groupsOn(url)).find((g) => JSON.stringify(sorted(g.labels)) === want);
}

/** The value of the first sample of `family` in `group`. */
export function sampleValue(group: ApiGroup | undefined, family: string): string | undefined {
  if (!group) return undefined;
  return familiesOf(group).find(([name]) => name === family)?.[1].metrics[0]?.value;
}

export function familyNames(group: ApiGroup | undefined): string[] {
  return group ? familiesOf(group).map(([n]) => n).filter((n) => n !== 'push_time_seconds' && n !== 'push_failure_time_seconds').sort() : [];
}

function sorted(o: Record<string, string>): Array<[string, string]> {
  return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1));
}
