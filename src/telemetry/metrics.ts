/**
 * shardgate's own metrics, one registry per app instance (no global
 * registry, so tests and embedders can run several side by side).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: 'shardgate_requests_total',
    help: 'Push API requests by method, response code and owning shard ("none" when not routed).',
    labelNames: ['method', 'code', 'shard'] as const,
    registers: [this.registry],
  });
  readonly inFlight = new Gauge({
    name: 'shardgate_requests_in_flight',
    help: 'Push API requests being forwarded right now.',
    registers: [this.registry],
  });
  readonly forwardDuration = new Histogram({
    name: 'shardgate_forward_duration_seconds',
    help: 'Time from receiving a push to the owning pushgateway\'s answer, by shard.',
    labelNames: ['shard'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly openConnections = new Gauge({
    name: 'shardgate_open_connections',
    help: 'Open client connections counted against limits.max_connections.',
    registers: [this.registry],
  });
  readonly refusedConnections = new Counter({
    name: 'shardgate_refused_connections_total',
    help: 'Client connections refused by limits.max_connections (reason="total") or max_connections_per_ip (reason="per_ip").',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly upstreamErrors = new Counter({
    name: 'shardgate_upstream_errors_total',
    help: 'Pushes that failed to reach their pushgateway, by shard and reason.',
    labelNames: ['shard', 'reason'] as const,
    registers: [this.registry],
  });
  readonly healthyShards = new Gauge({
    name: 'shardgate_healthy_shards',
    help: 'Configured pushgateways currently passing health checks.',
    registers: [this.registry],
  });
  readonly configuredShards = new Gauge({
    name: 'shardgate_configured_shards',
    help: 'Configured pushgateways.',
    registers: [this.registry],
  });
  readonly ringMembers = new Gauge({
    name: 'shardgate_ring_members',
    help: 'Pushgateways in the hash ring.',
    registers: [this.registry],
  });
  readonly ringChanges = new Counter({
    name: 'shardgate_ring_changes_total',
    help: 'Times the hash ring was rebuilt with a different member set.',
    registers: [this.registry],
  });
  readonly shardUp = new Gauge({
    name: 'shardgate_shard_up',
    help: 'Whether a configured pushgateway is considered healthy (1) or not (0).',
    labelNames: ['shard'] as const,
    registers: [this.registry],
  });
  readonly healthChecks = new Counter({
    name: 'shardgate_health_checks_total',
    help: 'Health checks of pushgateways by shard and result (success|failure).',
    labelNames: ['shard', 'result'] as const,
    registers: [this.registry],
  });
  readonly healthCheckDuration = new Histogram({
    name: 'shardgate_health_check_duration_seconds',
    help: 'Duration of health checks.',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [this.registry],
  });
  readonly configReloadSuccess = new Gauge({
    name: 'shardgate_config_last_reload_successful',
    help: 'Whether the last configuration reload attempt was successful.',
    registers: [this.registry],
  });
  readonly configReloadTime = new Gauge({
    name: 'shardgate_config_last_reload_success_timestamp_seconds',
    help: 'Timestamp of the last successful configuration reload.',
    registers: [this.registry],
  });
  readonly rebalanceRuns = new Counter({
    name: 'shardgate_rebalance_runs_total',
    help: 'Rebalance rounds, by trigger (change|sweep) and result (success|partial).',
    labelNames: ['trigger', 'result'] as const,
    registers: [this.registry],
  });
  readonly rebalanceInProgress = new Gauge({
    name: 'shardgate_rebalance_in_progress',
    help: 'Whether a rebalance round is running.',
    registers: [this.registry],
  });
  readonly rebalanceDuration = new Histogram({
    name: 'shardgate_rebalance_duration_seconds',
    help: 'Duration of rebalance rounds.',
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers: [this.registry],
  });
  readonly rebalanceMoved = new Counter({
    name: 'shardgate_rebalance_groups_moved_total',
    help: 'Groups copied to their owner and deleted from the shard that held them.',
    registers: [this.registry],
  });
  readonly rebalanceDeleted = new Counter({
    name: 'shardgate_rebalance_strays_deleted_total',
    help: 'Stale copies deleted (a fresher copy exists on the owner).',
    registers: [this.registry],
  });
  readonly rebalanceSkipped = new Counter({
    name: 'shardgate_rebalance_skipped_total',
    help: 'Planned actions left alone because a client wrote the group meanwhile.',
    registers: [this.registry],
  });
  readonly rebalanceFailures = new Counter({
    name: 'shardgate_rebalance_failures_total',
    help: 'Rebalance reads or writes that failed; the data stays in place and a later round retries.',
    registers: [this.registry],
  });
  readonly rebalanceUnmovable = new Gauge({
    name: 'shardgate_rebalance_unmovable_groups',
    help: 'Groups a move cannot carry (the text format cannot reproduce them); they stay on the shard that holds them.',
    registers: [this.registry],
  });
  readonly rebalanceMarkedCopies = new Gauge({
    name: 'shardgate_rebalance_marked_copies',
    help: 'Copies known to be stale (or to be merged) on shards that could not be cleaned yet.',
    registers: [this.registry],
  });
  readonly inDoubtWrites = new Gauge({
    name: 'shardgate_push_in_doubt_writes',
    help: 'Pushes whose pushgateway never answered, kept to be completed by shardgate.',
    registers: [this.registry],
  });
  readonly inDoubtSettled = new Counter({
    name: 'shardgate_push_in_doubt_settled_total',
    help: 'Pushes in doubt settled: completed (re-sent and acknowledged), rejected (the pushgateway refused the re-sent body), superseded (a later PUT or DELETE), forgotten (over the memory bound).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly rebalanceTwoCopySeconds = new Histogram({
    name: 'shardgate_rebalance_two_copy_seconds',
    help: 'How long a moved group had a copy on both shards: from the owner confirming the copy to the source deleting it.',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [this.registry],
  });
  readonly rebalancePendingMoves = new Gauge({
    name: 'shardgate_rebalance_pending_moves',
    help: 'Groups still routed to a shard other than their owner, waiting to be moved.',
    registers: [this.registry],
  });
  readonly rebalanceLastSuccess = new Gauge({
    name: 'shardgate_rebalance_last_success_timestamp_seconds',
    help: 'When the last rebalance round finished without failures.',
    registers: [this.registry],
  });
  readonly sourceUp = new Gauge({
    name: 'shardgate_membership_source_up',
    help: 'Whether the membership source\'s last answer was usable (1) or it failed or answered with no targets (0); the last good set is kept meanwhile.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly sourceUpdates = new Counter({
    name: 'shardgate_membership_source_updates_total',
    help: 'Answers of the membership source, by result: success, failure (unreachable, invalid) or empty (ignored by the shrink guard).',
    labelNames: ['kind', 'result'] as const,
    registers: [this.registry],
  });
  readonly sourceTargets = new Gauge({
    name: 'shardgate_membership_source_targets',
    help: 'Targets in the membership source\'s last accepted answer.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly sourceLastUpdate = new Gauge({
    name: 'shardgate_membership_source_last_update_timestamp_seconds',
    help: 'When the membership source last gave an accepted answer.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly sourceLeaving = new Gauge({
    name: 'shardgate_membership_leaving_targets',
    help: 'Configured targets the source no longer lists (or lists as terminating), by phase: pending (within remove_after), held (by max_removal_ratio), draining, unreachable (kept until it answers), refused (last shard).',
    labelNames: ['phase'] as const,
    registers: [this.registry],
  });
  readonly expiryExpired = new Counter({
    name: 'shardgate_expiry_groups_expired_total',
    help: 'Groups deleted because their last client push was older than their expiry rule allows, by rule (selector text or "default").',
    labelNames: ['rule'] as const,
    registers: [this.registry],
  });
  readonly expirySkipped = new Counter({
    name: 'shardgate_expiry_groups_skipped_total',
    help: 'Expired groups left alone by a sweep: pushed (or moved) since the sweep read them, already gone, or the delete failed (reason).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly expirySweepDuration = new Histogram({
    name: 'shardgate_expiry_sweep_duration_seconds',
    help: 'Duration of expiry sweeps (read every shard, delete expired groups).',
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly expiryLastSweep = new Gauge({
    name: 'shardgate_expiry_last_sweep_timestamp_seconds',
    help: 'When the last expiry sweep finished.',
    registers: [this.registry],
  });
  readonly bulkDeleted = new Counter({
    name: 'shardgate_bulk_delete_groups_total',
    help: 'Groups handled by DELETE /api/v1/groups, by result (deleted, skipped, gone, failed).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly standbyWrites = new Counter({
    name: 'shardgate_replication_standby_writes_total',
    help: 'Pushes (PUT/POST/DELETE) mirrored to a standby pushgateway, by result: ok (first standby in rendezvous order), fallback (a later one), failed (none took it: the client got 503).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly standbyFailures = new Counter({
    name: 'shardgate_replication_standby_failures_total',
    help: 'Writes to one standby that failed (unreachable, timeout or non-2xx), by standby.',
    labelNames: ['standby'] as const,
    registers: [this.registry],
  });
  readonly standbyRepaired = new Counter({
    name: 'shardgate_replication_standby_repairs_total',
    help: 'Standby copies rewritten by the standby sweep because the group\'s first standby did not hold its shard\'s copy (missed writes while down, new standby target).',
    registers: [this.registry],
  });
  readonly groupsRestored = new Counter({
    name: 'shardgate_replication_groups_restored_total',
    help: 'Groups of a dead shard handled by a restore from the standbys, by result: restored, skipped (a client wrote it since the standbys were read), failed.',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly restoreDuration = new Histogram({
    name: 'shardgate_replication_restore_duration_seconds',
    help: 'Duration of one restore (read every standby, put back the dead shard\'s groups on their new owners).',
    buckets: [0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly buildInfo = new Gauge({
    name: 'shardgate_build_info',
    help: 'A metric with a constant 1 value labelled by version and Node.js version.',
    labelNames: ['version', 'nodejs'] as const,
    registers: [this.registry],
  });

  readonly #requestChildren = new Map<string, { inc(): void }>();
  readonly #forwardChildren = new Map<string, { observe(v: number): void }>();

  /** requests.inc with the label child cached: this runs on every push. */
  countRequest(method: string, code: string, shard: string): void {
    const k = `${method}\u0000${code}\u0000${shard}`;
    let child = this.#requestChildren.get(k);
    if (child === undefined) {
      child = this.requests.labels({ method, code, shard });
      this.#requestChildren.set(k, child);
    }
    child.inc();
  }

  observeForward(shard: string, seconds: number): void {
    let child = this.#forwardChildren.get(shard);
    if (child === undefined) {
      child = this.forwardDuration.labels({ shard });
      this.#forwardChildren.set(shard, child);
    }
    child.observe(seconds);
  }

  constructor(version: string) {
    collectDefaultMetrics({ register: this.registry });
    this.buildInfo.set({ version, nodejs: process.version }, 1);
  }
}
