/**
 * The replicas' own metrics (registered in the app's registry): what the
 * session, the fence and the gate do, so leadership, acknowledgements and
 * lease renewals show up in /metrics without reading logs.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export class ReplicaMetrics {
  readonly leader: Gauge;
  readonly term: Gauge;
  readonly leadershipChanges: Counter;
  readonly ringRevision: Gauge;
  readonly ackedRevision: Gauge;
  readonly replicas: Gauge;
  readonly ackedReplicas: Gauge;
  readonly renewals: Counter<'result'>;
  readonly storeErrors: Counter;
  readonly publications: Counter;
  readonly fenceWait: Histogram;
  readonly direct: Gauge;
  readonly forwarded: Counter<'result'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.leader = new Gauge({ name: 'shardgate_replica_leader', help: '1 while this replica leads (decides membership, rebalances), else 0.', registers });
    this.term = new Gauge({ name: 'shardgate_replica_leader_term', help: 'The term under which this replica last led.', registers });
    this.leadershipChanges = new Counter({ name: 'shardgate_replica_leadership_changes_total', help: 'Times this replica became leader or stopped leading.', registers });
    this.ringRevision = new Gauge({ name: 'shardgate_replica_ring_revision', help: 'The newest ring revision this replica has seen in the coordination store.', registers });
    this.ackedRevision = new Gauge({ name: 'shardgate_replica_ring_revision_acknowledged', help: 'The newest ring revision this replica adopted and acknowledged.', registers });
    this.replicas = new Gauge({ name: 'shardgate_replica_live_replicas', help: 'Replicas with a live session in the coordination store.', registers });
    this.ackedReplicas = new Gauge({ name: 'shardgate_replica_acknowledged_replicas', help: 'Leader: live replicas that acknowledged the revision it last waited for.', registers });
    this.renewals = new Counter({ name: 'shardgate_replica_session_renewals_total', help: 'Session (lease) renewals by result.', labelNames: ['result'] as const, registers });
    this.storeErrors = new Counter({ name: 'shardgate_replica_store_errors_total', help: 'Failed requests to the coordination store.', registers });
    this.publications = new Counter({ name: 'shardgate_replica_ring_publications_total', help: 'Leader: ring revisions published.', registers });
    this.fenceWait = new Histogram({
      name: 'shardgate_replica_fence_wait_seconds',
      help: 'Leader: time from publishing a revision to every live replica acknowledging it.',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.direct = new Gauge({ name: 'shardgate_replica_direct_writes', help: '1 while this replica may write pushes to the shards itself (leader, or follower of a settled fleet), 0 while it forwards them to the leader.', registers });
    this.forwarded = new Counter({ name: 'shardgate_replica_forwarded_total', help: 'Writes forwarded to the leader, by result (answered, unreachable, no_leader).', labelNames: ['result'] as const, registers });
  }
}
