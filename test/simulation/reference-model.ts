/**
 * What one single pushgateway would hold, given what the clients were told:
 * per group a SET of possible contents (absent included).
 *
 * - An acknowledged write applies to every possible state.
 * - A write in doubt (timeout, reset, 5xx) may or may not have applied:
 *   states ∪ apply(states). A client is sequential, so a write that applied
 *   did so before the client's next write; later writes apply on top.
 * - A refused write (connection refused, 503 no shard) or a rejected one
 *   (4xx) changes nothing.
 * - An operator who removes a shard holding groups from the config may lose
 *   them: states ∪ {absent} for those groups.
 *
 * Contents are compared by their canonical rendering (push_time_seconds
 * and push_failure_time_seconds are never part of a content).
 */
import { type GroupingKey } from '../../src/groupingkey/grouping-key.js';
import { applyWrite, canonical, type Content } from './group-content.js';
import { type PushOutcome } from './system-under-test.js';

const ABSENT = '(absent)';
/** Beyond this many possible states a group is no longer checked (reported as such). */
const MAX_STATES = 512;

export type ClientWrite = { readonly method: 'PUT' | 'POST'; readonly body: Content } | { readonly method: 'DELETE' };

interface Possible {
  readonly key: GroupingKey;
  states: Map<string, Content | undefined>;
  overflowed: boolean;
}

export class ReferenceModel {
  readonly #groups = new Map<string, Possible>();

  record(id: string, key: GroupingKey, write: ClientWrite, outcome: PushOutcome): void {
    if (outcome === 'refused' || outcome === 'rejected') return;
    const g = this.#group(id, key);
    const applied = new Map<string, Content | undefined>();
    for (const state of g.states.values()) {
      const after = write.method === 'DELETE' ? undefined : applyWrite(state, write.method, write.body);
      applied.set(keyOf(after), after);
    }
    g.states = outcome === 'ack' ? applied : new Map([...g.states, ...applied]);
    this.#cap(g);
  }

  /** The group's only copy may have gone with a shard removed from the config. */
  mayBeLost(id: string): void {
    const g = this.#groups.get(id);
    if (g === undefined) return;
    g.states.set(ABSENT, undefined);
  }

  ids(): string[] {
    return [...this.#groups.keys()].sort();
  }

  keyOf(id: string): GroupingKey | undefined {
    return this.#groups.get(id)?.key;
  }

  /** Whether `content` (undefined: the group exists nowhere) is a state the clients may observe. */
  allows(id: string, content: Content | undefined): boolean {
    const g = this.#groups.get(id);
    if (g === undefined) return content === undefined;
    return g.overflowed || g.states.has(keyOf(content));
  }

  /** The group certainly exists nowhere. */
  deleted(id: string): boolean {
    const g = this.#groups.get(id);
    return g === undefined || (g.states.size === 1 && g.states.has(ABSENT));
  }

  possible(id: string): ReadonlyArray<Content | undefined> {
    return [...(this.#groups.get(id)?.states.values() ?? [undefined])];
  }

  overflowed(): number {
    return [...this.#groups.values()].filter((g) => g.overflowed).length;
  }

  #group(id: string, key: GroupingKey): Possible {
    let g = this.#groups.get(id);
    if (g === undefined) {
      g = { key, states: new Map([[ABSENT, undefined]]), overflowed: false };
      this.#groups.set(id, g);
    }
    return g;
  }

  #cap(g: Possible): void {
    if (g.states.size <= MAX_STATES) return;
    g.overflowed = true;
    g.states = new Map([...g.states].slice(-MAX_STATES));
  }
}

function keyOf(content: Content | undefined): string {
  return content === undefined ? ABSENT : canonical(content);
}
