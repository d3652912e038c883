/**
 * The ring as the leader publishes it to the coordination store, and as
 * every replica reads it. `direct` is the fence (docs/replicas.md): while it
 * is false, followers send every write through the leader, so the leader's
 * group locks and copy ledger see all of them; the leader writes to the
 * shards on its own (moves, deletes, expiry) only once every live replica
 * acknowledged a revision with `direct: false`. While it is true, the fleet
 * is settled and every replica sends pushes straight to `members`' owners
 * (and `overrides`).
 *
 * Serialised as JSON; `parsePublishedRing` refuses anything else, so a
 * replica never routes by a record it does not understand.
 */
import { z } from 'zod';
import { type SdTargetGroup } from '../discovery/http-sd.js';
import { type LedgerSnapshot } from '../rebalance/copy-ledger.js';

export interface PublishedRing {
  /** Strictly increasing across leaders: a new leader continues from the last one read. */
  readonly revision: number;
  /** The publishing leader's term. */
  readonly term: number;
  /** The publishing leader's id. */
  readonly leader: string;
  readonly members: readonly string[];
  /** groupId → shard, for groups that are not on their ring owner (unmovable ones, when settled). */
  readonly overrides: ReadonlyArray<readonly [string, string]>;
  /** Targets being drained. */
  readonly draining: readonly string[];
  /** What Prometheus scrapes (the http_sd answer), as the leader computes it. */
  readonly discovery: readonly SdTargetGroup[];
  /** The fence: true only while followers may write to the shards directly. */
  readonly direct: boolean;
  /** The leader's copy ledger (stale copies, lost homes, recent deletes), for whoever leads next. */
  readonly ledger?: LedgerSnapshot | undefined;
}

const mark = z.enum(['stale', 'base']);
const ledgerSchema = z.object({
  epoch: z.number(),
  markSeq: z.number(),
  marks: z.array(z.tuple([z.string(), z.array(z.tuple([z.string(), mark])), z.number()])),
  lostHomes: z.array(z.tuple([z.string(), z.array(z.string()), z.number()])),
  lostGroups: z.array(z.tuple([z.string(), z.string(), z.number()])),
  deleted: z.array(z.string()),
  cleared: z.array(z.tuple([z.string(), z.string()])),
  lastHomes: z.array(z.tuple([z.string(), z.string()])),
});

const schema = z.object({
  revision: z.number().int().nonnegative(),
  term: z.number().int().nonnegative(),
  leader: z.string(),
  members: z.array(z.string()),
  overrides: z.array(z.tuple([z.string(), z.string()])),
  draining: z.array(z.string()),
  discovery: z.array(z.object({ targets: z.array(z.string()), labels: z.record(z.string(), z.string()) })),
  direct: z.boolean(),
  ledger: ledgerSchema.optional(),
});

export function serializePublishedRing(ring: PublishedRing): string {
  return JSON.stringify(ring);
}

/** Throws a plain Error naming what is wrong. */
export function parsePublishedRing(text: string): PublishedRing {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`published ring is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(`published ring is malformed: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}
