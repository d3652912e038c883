/**
 * Push bodies in text format 0.0.4, written by hand (not by
 * groupToExposition) over a few families of every type, so POST vs PUT
 * matters and every kind of value crosses a move: counters, a gauge with a
 * HELP that needs escaping, untyped with awkward label values, a summary, a
 * histogram. `version` makes every body's values distinct.
 */
export const FAMILY_NAMES = ['sim_requests_total', 'sim_temperature', 'sim_odd', 'sim_latency_seconds', 'sim_size_bytes'] as const;
export type FamilyName = (typeof FAMILY_NAMES)[number];

export function renderBody(families: readonly FamilyName[], version: number): string {
  return families.map((f) => RENDER[f](version)).join('');
}

const RENDER: Record<FamilyName, (v: number) => string> = {
  sim_requests_total: (v) => `# TYPE sim_requests_total counter\nsim_requests_total{code="200"} ${v}\nsim_requests_total{code="500"} ${v % 7}\n`,
  sim_temperature: (v) => `# HELP sim_temperature Temperature in \\\\ degrees,\\nsecond line.\n# TYPE sim_temperature gauge\nsim_temperature ${v + 0.25}\n`,
  sim_odd: (v) => `# TYPE sim_odd untyped\nsim_odd{path="a\\"b\\\\c\\nd"} ${v * 1e6}\nsim_odd{path=""} ${v % 2 === 0 ? 'NaN' : '-Inf'}\n`,
  sim_latency_seconds: (v) =>
    `# HELP sim_latency_seconds Latency.\n# TYPE sim_latency_seconds summary\nsim_latency_seconds{quantile="0.5"} ${v / 1000}\nsim_latency_seconds{quantile="0.99"} ${v / 100}\nsim_latency_seconds_sum ${v * 1.5}\nsim_latency_seconds_count ${v}\n`,
  sim_size_bytes: (v) =>
    `# TYPE sim_size_bytes histogram\nsim_size_bytes_bucket{le="1"} ${v % 3}\nsim_size_bytes_bucket{le="1024"} ${v % 3 + 1}\nsim_size_bytes_bucket{le="+Inf"} ${v % 3 + 2}\nsim_size_bytes_sum ${v + 0.5}\nsim_size_bytes_count ${v % 3 + 2}\n`,
};
