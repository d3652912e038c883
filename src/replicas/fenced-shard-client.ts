/**
 * The leader's background writes (rebalance moves, merges, deletes; expiry
 * and bulk deletes) all pass through one ShardClient: this one refuses a
 * write unless the write fence is held at that moment, so a leader that was
 * deposed (its lease lapsed on its own clock, or the store refused its
 * publication) cannot copy or delete after another replica took over.
 * Reads and health checks pass unchanged.
 */
import { type ShardClient } from '../upstream/shard-client.js';

export class FenceLostError extends Error {
  override readonly name = 'FenceLostError';
}

/**
 * @param durable resolves once what the leader learnt so far (its copy
 *   ledger, its overrides) is stored for the next leader; undefined when
 *   nothing changed. Awaited before every write: should the leader die right
 *   after it, the next one starts from a state at most one write old, and
 *   every single write is safe to find half done (docs/replicas.md).
 */
export function fencedShardClient(client: ShardClient, held: () => boolean, durable: () => Promise<void> | undefined = () => undefined): ShardClient {
  const check = async (what: string): Promise<void> => {
    if (!held()) throw new FenceLostError(`${what} refused: this replica does not hold the write fence (not the leader, or followers may be writing directly)`);
    const pending = durable();
    if (pending === undefined) return;
    try {
      await pending;
    } catch (err) {
      throw new FenceLostError(`${what} refused: what the leader knows could not be stored first (${err instanceof Error ? err.message : String(err)})`);
    }
    if (!held()) throw new FenceLostError(`${what} refused: this replica lost the write fence`);
  };
  return {
    checkHealthy: (target, timeoutMs) => client.checkHealthy(target, timeoutMs),
    listGroups: (target, timeoutMs) => client.listGroups(target, timeoutMs),
    push: async (target, method, path, body, timeoutMs) => {
      await check(`${method} ${path} on ${target}`);
      return client.push(target, method, path, body, timeoutMs);
    },
    delete: async (target, path, timeoutMs) => {
      await check(`DELETE ${path} on ${target}`);
      return client.delete(target, path, timeoutMs);
    },
  };
}
