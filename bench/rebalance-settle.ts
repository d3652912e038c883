/**
 * Suite 4, rebalance settle time — PLACEHOLDER (issue 4, part 4 comes later).
 *
 * Hook: run.ts already lists this suite, and report.ts prints its section,
 * so filling it in needs only this file (and its options in run.ts). The
 * intended measurement: with G groups stored on N shards, add (or drain)
 * one shard and time until every group sits on its new owner and nowhere
 * else, while pushes continue; report the settle time, the pushes that
 * failed meanwhile, and the moves per second against the configured
 * `rebalance.max_moves_per_second`.
 */
import { type ProcessSet } from './processes.js';

export interface RebalanceSettleResult {
  readonly status: 'not implemented';
  readonly note: string;
}

export async function runRebalanceSettle(_procs: ProcessSet): Promise<RebalanceSettleResult> {
  return { status: 'not implemented', note: 'issue 4 part 4 (rebalance settle time) is not measured yet' };
}
