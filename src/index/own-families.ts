/**
 * The families a pushgateway exposes itself on /metrics, beside the pushed
 * groups: what its check gathers first (`prometheus.DefaultGatherer`), so a
 * pushed family of the same name must have the same type (HELP is replaced
 * by the pushgateway's own, never an error). Read from Debian's
 * Pushgateway 1.5.1 (`go_*`, `process_*`, `pushgateway_*`); the
 * `pushgateway_http_*` vectors appear after its first push, and are taken
 * as always present.
 */
import { type MetricType } from '../exposition/metric-family.js';

export const PUSHGATEWAY_OWN_FAMILIES: ReadonlyMap<string, MetricType> = new Map<string, MetricType>([
  ['go_gc_duration_seconds', 'SUMMARY'],
  ['go_goroutines', 'GAUGE'],
  ['go_info', 'GAUGE'],
  ['go_memstats_alloc_bytes', 'GAUGE'],
  ['go_memstats_alloc_bytes_total', 'COUNTER'],
  ['go_memstats_buck_hash_sys_bytes', 'GAUGE'],
  ['go_memstats_frees_total', 'COUNTER'],
  ['go_memstats_gc_sys_bytes', 'GAUGE'],
  ['go_memstats_heap_alloc_bytes', 'GAUGE'],
  ['go_memstats_heap_idle_bytes', 'GAUGE'],
  ['go_memstats_heap_inuse_bytes', 'GAUGE'],
  ['go_memstats_heap_objects', 'GAUGE'],
  ['go_memstats_heap_released_bytes', 'GAUGE'],
  ['go_memstats_heap_sys_bytes', 'GAUGE'],
  ['go_memstats_last_gc_time_seconds', 'GAUGE'],
  ['go_memstats_lookups_total', 'COUNTER'],
  ['go_memstats_mallocs_total', 'COUNTER'],
  ['go_memstats_mcache_inuse_bytes', 'GAUGE'],
  ['go_memstats_mcache_sys_bytes', 'GAUGE'],
  ['go_memstats_mspan_inuse_bytes', 'GAUGE'],
  ['go_memstats_mspan_sys_bytes', 'GAUGE'],
  ['go_memstats_next_gc_bytes', 'GAUGE'],
  ['go_memstats_other_sys_bytes', 'GAUGE'],
  ['go_memstats_stack_inuse_bytes', 'GAUGE'],
  ['go_memstats_stack_sys_bytes', 'GAUGE'],
  ['go_memstats_sys_bytes', 'GAUGE'],
  ['go_threads', 'GAUGE'],
  ['process_cpu_seconds_total', 'COUNTER'],
  ['process_max_fds', 'GAUGE'],
  ['process_open_fds', 'GAUGE'],
  ['process_resident_memory_bytes', 'GAUGE'],
  ['process_start_time_seconds', 'GAUGE'],
  ['process_virtual_memory_bytes', 'GAUGE'],
  ['process_virtual_memory_max_bytes', 'GAUGE'],
  ['pushgateway_build_info', 'GAUGE'],
  ['pushgateway_http_push_duration_seconds', 'SUMMARY'],
  ['pushgateway_http_push_size_bytes', 'SUMMARY'],
  ['pushgateway_http_requests_total', 'COUNTER'],
]);

/** Written by the pushgateway into every group; pushed families of these names are replaced (see fleet-index.ts). */
export const PUSH_TIME = 'push_time_seconds';
export const PUSH_FAILURE_TIME = 'push_failure_time_seconds';
