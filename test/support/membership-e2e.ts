/**
 * Shared steps of the end-to-end membership tests (Consul, Kubernetes):
 * push groups through shardgate, read the ring, and check that every group
 * is stored exactly once and where the ring says.
 */
import assert from 'node:assert/strict';
import { type TestPushgateway } from './pushgateway.js';
import { copiesOfJob } from './pushgateway-api.js';

export async function ringMembers(url: string): Promise<string[]> {
  const sd = (await (await fetch(`${url}/api/v1/sd`)).json()) as Array<{ targets: string[]; labels: Record<string, string> }>;
  return sd.filter((g) => g.labels['__meta_shardgate_state'] === 'active').flatMap((g) => g.targets).sort();
}

export async function sdGroups(url: string): Promise<Array<{ targets: string[]; labels: Record<string, string> }>> {
  return (await (await fetch(`${url}/api/v1/sd`)).json()) as Array<{ targets: string[]; labels: Record<string, string> }>;
}

/** PUTs `n` groups of `job` (instance i0 … i<n-1>) with value `v`; every push must be acknowledged. */
export async function pushGroups(url: string, job: string, n: number, v: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${url}/metrics/job/${job}/instance/i${i}`, { method: 'PUT', body: `sg_e2e_value ${v}\n` });
    assert.equal(res.status, 200, `push i${i}: ${await res.text()}`);
  }
}

/** Where each group of `job` is stored: instance → the targets holding a copy. */
export async function placement(pgs: readonly TestPushgateway[], job: string): Promise<Map<string, string[]>> {
  const copies = await copiesOfJob(pgs, job);
  return new Map([...copies].map(([inst, cs]) => [inst, cs.map((c) => c.target)]));
}

/** True when all `n` groups are stored exactly once, none on `excluded`. */
export async function storedOnce(pgs: readonly TestPushgateway[], job: string, n: number, excluded: readonly string[] = []): Promise<boolean> {
  const where = await placement(pgs, job);
  if (where.size !== n) return false;
  return [...where.values()].every((ts) => ts.length === 1 && !excluded.includes(ts[0] ?? ''));
}
