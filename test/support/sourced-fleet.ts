/**
 * Helpers for the membership-source end-to-end tests: push groups through
 * shardgate, read its shards and source state, and check that every group
 * is on exactly one shard, its owner, with its value.
 */
import assert from 'node:assert/strict';
import { type Shardgate } from './shardgate.js';
import { type TestPushgateway } from './pushgateway.js';
import { copiesOfJob, sampleValue } from './pushgateway-api.js';

export interface ShardInfo {
  readonly target: string;
  readonly health: string;
  readonly in_ring: boolean;
  readonly drain: { readonly state: string } | null;
  readonly source: { readonly listed: boolean; readonly labels: Record<string, string>; readonly leaving: string | null } | null;
}

export interface SourceInfo {
  readonly kind: string;
  readonly healthy: boolean;
  readonly last_error: string | null;
  readonly targets: number;
}

export async function shards(sg: Shardgate): Promise<{ data: ShardInfo[]; membership: SourceInfo }> {
  return (await (await fetch(`${sg.url}/api/v1/shards`)).json()) as { data: ShardInfo[]; membership: SourceInfo };
}

export async function ringMembers(sg: Shardgate): Promise<string[]> {
  return (await shards(sg)).data.filter((s) => s.in_ring).map((s) => s.target).sort();
}

export async function pushValue(sg: Shardgate, job: string, i: number, value: number): Promise<void> {
  const res = await fetch(`${sg.url}/metrics/job/${job}/instance/i${i}`, { method: 'PUT', body: `# TYPE work_done_total counter\nwork_done_total ${value}\n` });
  assert.equal(res.status, 200, await res.text());
}

/** True when each of `n` groups is on exactly one of `pgs`, its owner, with value `value`. */
export async function settledOn(sg: Shardgate, pgs: readonly TestPushgateway[], job: string, n: number, value: string): Promise<boolean> {
  const where = await copiesOfJob(pgs, job);
  if (where.size !== n) return false;
  for (let i = 0; i < n; i++) {
    const copies = where.get(`i${i}`) ?? [];
    const owner = ((await (await fetch(`${sg.url}/metrics/job/${job}/instance/i${i}`)).json()) as { owner: string }).owner;
    if (copies.length !== 1 || copies[0]?.target !== owner || sampleValue(copies[0].group, 'work_done_total') !== value) return false;
  }
  return true;
}
