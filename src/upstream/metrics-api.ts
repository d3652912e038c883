/**
 * Pushgateway's JSON read API (`GET /api/v1/metrics`), as 1.x serves it.
 * Every number is a string ("NaN", "+Inf" and "-Inf" included). Family names
 * share the group object with `labels` and `last_push_successful`.
 */
export interface MetricsApiResponse {
  readonly status: 'success' | 'error';
  readonly data: readonly ApiGroup[];
}

export interface ApiGroup {
  readonly labels: Readonly<Record<string, string>>;
  readonly last_push_successful: boolean;
  readonly [familyName: string]: ApiFamily | Readonly<Record<string, string>> | boolean;
}

export type ApiMetricType = 'COUNTER' | 'GAUGE' | 'UNTYPED' | 'SUMMARY' | 'HISTOGRAM' | 'GAUGE_HISTOGRAM';

export interface ApiFamily {
  /** RFC 3339 time of the push that last wrote this family. */
  readonly time_stamp: string;
  readonly type: ApiMetricType;
  /** Omitted when empty. */
  readonly help?: string;
  readonly metrics: readonly ApiMetric[];
}

export interface ApiMetric {
  readonly labels: Readonly<Record<string, string>>;
  /** Counter, gauge, untyped. */
  readonly value?: string;
  /** Summary: quantile -> value. */
  readonly quantiles?: Readonly<Record<string, string>>;
  /** Histogram: upper bound (le) -> cumulative count. */
  readonly buckets?: Readonly<Record<string, string>>;
  readonly count?: string;
  readonly sum?: string;
}

/** Families Pushgateway writes itself on every push; never copied. */
export const PUSHGATEWAY_OWN_FAMILIES: ReadonlySet<string> = new Set(['push_time_seconds', 'push_failure_time_seconds']);

export function familiesOf(group: ApiGroup): Array<[string, ApiFamily]> {
  const out: Array<[string, ApiFamily]> = [];
  for (const [name, v] of Object.entries(group)) {
    if (name === 'labels' || name === 'last_push_successful') continue;
    if (v !== null && typeof v === 'object' && 'metrics' in v) out.push([name, v as ApiFamily]);
  }
  return out;
}

