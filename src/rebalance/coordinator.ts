/**
 * The one owner of the routing: which ring is published, which groups are
 * still routed to the shard that holds them (overrides), which shards drain,
 * and which shards Prometheus should scrape. Membership reports health; the
 * coordinator decides what takes effect, through the rebalancer when it is
 * on, directly when it is off.
 *
 * main.ts and the deterministic simulation both build one of these, so the
 * simulation runs the same wiring as production.
 */
import { type Logger } from '../telemetry/logger.js';
import { type Metrics } from '../telemetry/metrics.js';
import { type ShardClient } from '../upstream/shard-client.js';
import { type Clock } from '../time/clock.js';
import { buildRing } from '../ring/rendezvous-ring.js';
import { type RoutingTable } from '../proxy/push-target.js';
import { type HealthCheckedTargets } from '../membership/health-checked-targets.js';
import { sdTargetGroups, type SdTargetGroup } from '../discovery/http-sd.js';
import { type GroupLocks } from './group-locks.js';
import { Rebalancer, type DrainState, type RebalanceSettings, type PublishedRouting } from './rebalancer.js';

export interface CoordinatorDeps {
  readonly client: ShardClient;
  readonly clock: Clock;
  readonly locks: GroupLocks;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly membership: HealthCheckedTargets;
  /** Deadline for the rebalancer's reads and writes to one pushgateway. */
  readonly timeoutMs: number;
  /** Called after the published ring's member set changed or a drain started or ended. */
  readonly onDiscoveryChange?: () => void;
}

export type DrainView = DrainState | { readonly target: string; readonly state: 'active' };

export class Coordinator {
  readonly #deps: CoordinatorDeps;
  readonly #rebalancer: Rebalancer | undefined;
  #routing: RoutingTable = { ring: buildRing([]), overrides: new Map() };

  constructor(deps: CoordinatorDeps, rebalance: RebalanceSettings & { readonly enabled: boolean }) {
    this.#deps = deps;
    const { membership } = deps;
    this.#rebalancer = rebalance.enabled
      ? new Rebalancer(
          {
            client: deps.client,
            clock: deps.clock,
            locks: deps.locks,
            logger: deps.logger,
            metrics: deps.metrics,
            timeoutMs: deps.timeoutMs,
            // Up, or answering again while it earns its rise: its stale copies must go now.
            readable: () => membership.statuses().filter((s) => s.health === 'up' || (s.lastCheck !== null && s.lastError === null)).map((s) => s.target),
            current: () => this.#routing,
            publish: (next) => this.#publish(next),
          },
          rebalance,
        )
      : undefined;
    membership.onChange((_old, next) => {
      if (this.#rebalancer) this.#rebalancer.setMembers(next, 'membership');
      else this.#publish({ ring: buildRing(next), overrides: new Map() });
    });
  }

  get rebalancing(): boolean {
    return this.#rebalancer !== undefined;
  }

  routing(): RoutingTable {
    return this.#routing;
  }

  /** A shard that was down answers again: clean its stale copies before it is re-admitted. */
  shardRecovering(target: string): void {
    this.#rebalancer?.request(`recovering ${target}`);
  }

  set settings(s: RebalanceSettings) {
    if (this.#rebalancer) this.#rebalancer.settings = s;
  }

  startSweeping(): void {
    this.#rebalancer?.startSweeping();
  }

  async idle(): Promise<void> {
    await this.#rebalancer?.idle();
  }

  stop(): void {
    this.#rebalancer?.stop();
  }

  /** Starts (on) or cancels (off) a drain; undefined for an unknown target or without the rebalancer. */
  drain(target: string, on: boolean): DrainView | undefined {
    if (!this.#rebalancer) return undefined;
    if (!this.#deps.membership.setDraining(target, on)) return undefined;
    this.#rebalancer.drain(target, on);
    this.#deps.onDiscoveryChange?.();
    return this.#rebalancer.drainState(target) ?? { target, state: 'active' };
  }

  drainState(target: string): DrainState | null {
    return this.#rebalancer?.drainState(target) ?? null;
  }

  /** The shards Prometheus should scrape now. */
  discovery(): SdTargetGroup[] {
    return sdTargetGroups(this.#routing.ring.members, this.#deps.membership.statuses());
  }

  #publish(next: PublishedRouting): void {
    const changed = next.ring.members.join(',') !== this.#routing.ring.members.join(',');
    this.#routing = { ring: next.ring, overrides: next.overrides };
    if (!changed) return;
    const { metrics, logger } = this.#deps;
    metrics.ringMembers.set(next.ring.members.length);
    metrics.ringChanges.inc();
    logger.info({ members: next.ring.members.join(',') || '(none)', pending_moves: next.overrides.size }, 'ring published');
    this.#deps.onDiscoveryChange?.();
  }
}
