/**
 * What the source glue (sourced-targets.ts) may do to the fleet, as one
 * narrow interface over the Coordinator and the health checks: replace the
 * configured targets, read a target's health, start or cancel a drain.
 */
import { type Coordinator, type DrainState } from '../rebalance/coordinator.js';
import { ShardgateError } from '../http/errors.js';
import { type HealthCheckSettings } from './health-checked-targets.js';
import { type Health, type Membership } from './membership.js';

export interface FleetControl {
  /**
   * Replaces the configured targets (health-checked from now on); resolves
   * once new ones were checked once. `forgetRemoved`: the ledger forgets what
   * it knows about removed targets (a reload of the static list does; a
   * dynamic source does not: a target it dropped while unreachable may be
   * listed again with its old copies, which the ledger must still judge).
   */
  setTargets(targets: readonly string[], health: HealthCheckSettings, forgetRemoved: boolean): Promise<void>;
  /** Health of a configured target; undefined for one that is not configured. */
  health(target: string): Health | undefined;
  /** Starts (on) or cancels (off) a drain; false when refused (the last shard, or no rebalancer). */
  drain(target: string, on: boolean): boolean;
  drainState(target: string): DrainState | null;
  /** Whether drains are possible at all (the rebalancer is on). */
  readonly rebalancing: boolean;
}

export function fleetControl(coordinator: Coordinator, membership: Membership): FleetControl {
  return {
    setTargets: (targets, health, forgetRemoved) => coordinator.setTargets(targets, health, forgetRemoved),
    health: (target) => membership.statuses().find((s) => s.target === target)?.health,
    drain(target, on) {
      try {
        return coordinator.drain(target, on) !== undefined;
      } catch (err) {
        if (err instanceof ShardgateError) return false;
        throw err;
      }
    },
    drainState: (target) => coordinator.drainState(target),
    rebalancing: coordinator.rebalancing,
  };
}
