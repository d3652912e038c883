/**
 * Everything the HTTP layer needs from the rest of the app, as one narrow
 * interface. main.ts builds it; handlers only read from it.
 */
import { type ReplicaStatus } from '../replicas/replica-node.js';
import { type Logger } from '../telemetry/logger.js';
import { type Metrics } from '../telemetry/metrics.js';
import { type Membership } from '../membership/membership.js';
import { type PushgatewayClient } from '../upstream/pushgateway-client.js';
import { type PushProxy, type Routing } from '../proxy/push-proxy.js';
import { type Flags } from '../cli/flags.js';
import { type SdTargetGroup } from '../discovery/http-sd.js';
import { type ShardView } from '../rebalance/coordinator.js';
import { type SourcedTargets } from '../membership/sourced-targets.js';
import { type GroupingKey } from '../groupingkey/grouping-key.js';
import { type Selector } from '../expiry/selector.js';
import { type ListedGroup, type BulkDeleteResult } from '../expiry/bulk-delete.js';
import { type ExpiryDecision } from '../expiry/rules.js';

export interface HttpContext {
  readonly proxy: PushProxy;
  readonly routing: () => Routing;
  /** The shards Prometheus should scrape (http_sd body). */
  readonly discovery: () => readonly SdTargetGroup[];
  readonly membership: Membership;
  readonly client: PushgatewayClient;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly flags: Flags;
  readonly build: { readonly version: string; readonly nodejs: string };
  readonly startTime: Date;
  /** Deadline for reads and admin fan-outs to one pushgateway. */
  readonly readTimeoutMs: () => number;
  /** Re-reads the config file; rejects with ConfigError and keeps the old one. */
  readonly reload: () => Promise<void>;
  /** Starts a graceful shutdown. */
  readonly quit: () => void;
  /** Every configured target with health, ring, drain and unmovable groups. */
  readonly shards: () => readonly ShardView[];
  /** Set when the rebalancer is on: starts or cancels a drain; undefined for an unknown target. */
  readonly drain?: (target: string, on: boolean) => unknown;
  /** The membership source's state, and what it says about each target. */
  readonly source: Pick<SourcedTargets, 'status' | 'target'>;
  /** Called after a wipe reached every shard (gateway mode re-syncs its index). */
  readonly afterWipe?: () => void;
  /** Groups matching any selector across the fleet, and their delete-if-unchanged deletion (/api/v1/groups). */
  readonly groups: {
    list(selectors: readonly Selector[]): Promise<{ readonly data: readonly ListedGroup[]; readonly warnings: readonly string[] }>;
    delete(selectors: readonly Selector[]): Promise<BulkDeleteResult>;
  };
  /** The group's expiry rule and time (undefined: expiry is not configured). */
  readonly expiry: (key: GroupingKey) => ExpiryDecision | undefined;
  /** True while shutting down: pushes get 503. */
  readonly shuttingDown: () => boolean;
  /** Several replicas: why this replica's discovery answer may be stale (undefined: it is current). */
  readonly discoveryStale?: () => string | undefined;
  /** Several replicas: why this replica is not ready (undefined: ready). */
  readonly notReady?: () => string | undefined;
  /** Several replicas: leadership, ring revision, acknowledgements (for /api/v1/status). */
  readonly replicas?: () => ReplicaStatus;
}
