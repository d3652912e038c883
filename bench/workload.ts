/**
 * The workload every push benchmark sends: one realistic group body (3
 * counters, 1 gauge, 1 classic histogram with 5 buckets: 12 pushed series,
 * 14 stored with push_time_seconds and push_failure_time_seconds), PUT to
 * /metrics/job/bench/instance/<i> with i cycling over G groups, so every
 * measured push replaces a group that is already stored.
 */
import { PushClient } from './push-client.js';

export const PUSH_BODY = `# HELP bench_jobs_processed_total Jobs processed by the batch run.
# TYPE bench_jobs_processed_total counter
bench_jobs_processed_total 18234
# HELP bench_jobs_failed_total Jobs that failed.
# TYPE bench_jobs_failed_total counter
bench_jobs_failed_total 17
# HELP bench_bytes_written_total Bytes written to the output store.
# TYPE bench_bytes_written_total counter
bench_bytes_written_total 9.8123456e+08
# HELP bench_last_success_timestamp_seconds Unix time of the last successful run.
# TYPE bench_last_success_timestamp_seconds gauge
bench_last_success_timestamp_seconds 1.7326e+09
# HELP bench_job_duration_seconds Duration of one job.
# TYPE bench_job_duration_seconds histogram
bench_job_duration_seconds_bucket{le="0.1"} 1021
bench_job_duration_seconds_bucket{le="0.5"} 9113
bench_job_duration_seconds_bucket{le="1"} 15377
bench_job_duration_seconds_bucket{le="5"} 18022
bench_job_duration_seconds_bucket{le="10"} 18210
bench_job_duration_seconds_bucket{le="+Inf"} 18234
bench_job_duration_seconds_sum 20741.5
bench_job_duration_seconds_count 18234
`;

export const PUSH_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'content-type': 'text/plain; version=0.0.4' });

/** Series a pushgateway stores per group: the 12 pushed + push_time_seconds + push_failure_time_seconds. */
export const SERIES_PER_GROUP = 14;

export function pushPath(i: number): string {
  return `/metrics/job/bench/instance/${i}`;
}

/** Paths of groups 0..count-1. */
export function pushPaths(count: number): string[] {
  return Array.from({ length: count }, (_, i) => pushPath(i));
}

/**
 * PUTs groups from..to-1 once each through `origin`, at most `concurrency`
 * at a time. Throws on the first non-2xx answer. Resolves with the seconds taken.
 */
export async function prefill(origin: string, from: number, to: number, concurrency: number, followRedirects = false): Promise<number> {
  const client = new PushClient({ connections: concurrency, body: PUSH_BODY, headers: { ...PUSH_HEADERS }, followRedirects });
  const started = performance.now();
  let next = from;
  const worker = async (): Promise<void> => {
    while (next < to) {
      const path = pushPath(next++);
      const out = await client.push(origin, path);
      if (out.status < 200 || out.status >= 300) throw new Error(`prefill ${origin}${path}: HTTP ${out.status}: ${out.errorBody ?? ''}`);
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    await client.close();
  }
  return (performance.now() - started) / 1000;
}

/** Number of groups a pushgateway holds, from its /api/v1/metrics. */
export async function countGroups(target: string): Promise<number> {
  const res = await fetch(`http://${target}/api/v1/metrics`, { signal: AbortSignal.timeout(60_000) });
  if (res.status !== 200) throw new Error(`GET ${target}/api/v1/metrics: HTTP ${res.status}`);
  const body: unknown = await res.json();
  const data = typeof body === 'object' && body !== null && 'data' in body ? body.data : undefined;
  if (!Array.isArray(data)) throw new Error(`GET ${target}/api/v1/metrics: no data array`);
  return data.length;
}

/** Whether the pushgateway at `target` runs with its consistency check on (per /api/v1/status). */
export async function consistencyCheckOn(target: string): Promise<boolean> {
  const res = await fetch(`http://${target}/api/v1/status`, { signal: AbortSignal.timeout(10_000) });
  const body: unknown = await res.json();
  const data = typeof body === 'object' && body !== null && 'data' in body ? body.data : undefined;
  const flags = typeof data === 'object' && data !== null && 'flags' in data ? data.flags : undefined;
  const value = typeof flags === 'object' && flags !== null && 'push.disable-consistency-check' in flags ? flags['push.disable-consistency-check'] : undefined;
  if (value !== 'true' && value !== 'false') throw new Error(`${target}/api/v1/status does not show push.disable-consistency-check`);
  return value === 'false';
}
