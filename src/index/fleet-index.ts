/**
 * What the whole fleet stores, reduced to what Pushgateway's consistency
 * check looks at: for every group its families (type, HELP, series
 * identities), and across groups, for every family name the groups holding
 * it by type, and for every series identity the group(s) producing it. The
 * pushgateways' own families are holders too (OWN).
 *
 * It also keeps, at all times, the set of inconsistencies the whole store
 * would show to client_golang's Gather: series produced twice, family
 * names with more than one type, and `_count`/`_sum`/`_bucket` families
 * beside a summary/histogram of the base name. A checked pushgateway
 * rejects every push while its store has any (its check gathers the whole
 * store), so `consistent()` is what a push must leave true.
 *
 * Every change is one family of one group at a time, so a push costs time
 * proportional to the families it touches, never to the store.
 *
 * Not safe for concurrent use across awaits: callers change it
 * synchronously (JavaScript runs each change to completion).
 */
import { type GroupingKey } from '../groupingkey/grouping-key.js';
import { type MetricType } from '../exposition/metric-family.js';
import { PUSHGATEWAY_OWN_FAMILIES } from './own-families.js';
import { identityName } from './series.js';

export interface FamilyEntry {
  readonly type: MetricType;
  readonly help: string;
  /** seriesIdentity(...) of each stored metric (series.ts). */
  readonly series: readonly string[];
}

export interface GroupEntry {
  readonly key: GroupingKey;
  readonly families: ReadonlyMap<string, FamilyEntry>;
}

/** The holder id of the pushgateways' own families. */
export const OWN = '\u0000own';

export type Inconsistency =
  | { readonly kind: 'series'; readonly identity: string; readonly holders: readonly string[] }
  | { readonly kind: 'type'; readonly name: string; readonly types: ReadonlyMap<MetricType, ReadonlySet<string>> }
  | { readonly kind: 'suffix'; readonly child: string; readonly base: string; readonly baseType: MetricType; readonly holders: readonly string[] };

export class FleetIndex {
  readonly #groups = new Map<string, { readonly key: GroupingKey; readonly families: Map<string, FamilyEntry> }>();
  readonly #types = new Map<string, Map<MetricType, Set<string>>>();
  /** Holder group id, or ids when more than one group produces the series (an inconsistency). */
  readonly #series = new Map<string, string | string[]>();
  readonly #duplicateSeries = new Set<string>();
  readonly #mixedTypes = new Set<string>();
  readonly #suffixCollisions = new Set<string>();

  constructor(ownFamilies: ReadonlyMap<string, MetricType> = PUSHGATEWAY_OWN_FAMILIES) {
    for (const [name, type] of ownFamilies) this.#addType(name, type, OWN);
  }

  get groupCount(): number {
    return this.#groups.size;
  }

  group(id: string): GroupEntry | undefined {
    return this.#groups.get(id);
  }

  groups(): IterableIterator<[string, GroupEntry]> {
    return this.#groups.entries();
  }

  /** Which groups hold a family of this name, by type (OWN for the pushgateways' own). */
  familyHolders(name: string): ReadonlyMap<MetricType, ReadonlySet<string>> | undefined {
    return this.#types.get(name);
  }

  consistent(): boolean {
    return this.#duplicateSeries.size === 0 && this.#mixedTypes.size === 0 && this.#suffixCollisions.size === 0;
  }

  /** Inconsistencies touching any of `names` first, then any other; undefined when consistent. */
  inconsistency(names?: ReadonlySet<string>): Inconsistency | undefined {
    const inconsistencies = (preferred: boolean): Inconsistency | undefined => {
      const only = preferred ? names : undefined;
      const within = <T>(set: Set<T>, nameOf: (t: T) => string): T | undefined => {
        for (const item of set) if (only === undefined || only.has(nameOf(item))) return item;
        return undefined;
      };
      const typeName = within(this.#mixedTypes, (n) => n);
      if (typeName !== undefined) return { kind: 'type', name: typeName, types: this.#types.get(typeName) ?? new Map() };
      const child = within(this.#suffixCollisions, (n) => n);
      if (child !== undefined) return this.#suffixInconsistency(child);
      const identity = within(this.#duplicateSeries, identityName);
      if (identity !== undefined) return { kind: 'series', identity, holders: holdersOf(this.#series.get(identity)) };
      return undefined;
    };
    return (names !== undefined ? inconsistencies(true) : undefined) ?? inconsistencies(false);
  }

  /** Replaces (or with `entry` undefined removes) one family of one group. */
  setFamily(id: string, key: GroupingKey, name: string, entry: FamilyEntry | undefined): void {
    const group = this.#groups.get(id);
    const old = group?.families.get(name);
    if (old === entry) return;
    if (old !== undefined) this.#unlinkFamily(id, name, old);
    let families = group?.families;
    if (families === undefined) this.#groups.set(id, { key, families: (families = new Map()) });
    if (entry === undefined) families.delete(name);
    else {
      families.set(name, entry);
      this.#linkFamily(id, name, entry);
    }
  }

  /** Replaces a group's whole content (undefined removes the group). */
  setGroup(id: string, entry: GroupEntry | undefined): void {
    const old = this.#groups.get(id);
    if (old !== undefined) for (const [name, family] of old.families) this.#unlinkFamily(id, name, family);
    if (entry === undefined) {
      this.#groups.delete(id);
      return;
    }
    this.#groups.set(id, { key: entry.key, families: new Map(entry.families) });
    for (const [name, family] of entry.families) this.#linkFamily(id, name, family);
  }

  #linkFamily(id: string, name: string, entry: FamilyEntry): void {
    this.#addType(name, entry.type, id);
    for (const identity of entry.series) {
      const holders = this.#series.get(identity);
      if (holders === undefined) this.#series.set(identity, id);
      else {
        this.#series.set(identity, [...holdersOf(holders), id]);
        this.#duplicateSeries.add(identity);
      }
    }
  }

  #unlinkFamily(id: string, name: string, entry: FamilyEntry): void {
    this.#removeType(name, entry.type, id);
    for (const identity of entry.series) {
      const holders = holdersOf(this.#series.get(identity));
      const at = holders.indexOf(id);
      if (at === -1) continue;
      const rest = holders.filter((_, i) => i !== at);
      if (rest.length === 0) this.#series.delete(identity);
      else this.#series.set(identity, rest.length === 1 ? (rest[0] ?? '') : rest);
      if (rest.length <= 1) this.#duplicateSeries.delete(identity);
    }
  }

  #addType(name: string, type: MetricType, holder: string): void {
    let byType = this.#types.get(name);
    const appeared = byType === undefined;
    if (byType === undefined) this.#types.set(name, (byType = new Map()));
    let holders = byType.get(type);
    const newType = holders === undefined;
    if (holders === undefined) byType.set(type, (holders = new Set()));
    holders.add(holder);
    if (byType.size > 1) this.#mixedTypes.add(name);
    if (appeared || newType) this.#recheckSuffixes(name);
  }

  #removeType(name: string, type: MetricType, holder: string): void {
    const byType = this.#types.get(name);
    const holders = byType?.get(type);
    if (byType === undefined || holders === undefined) return;
    holders.delete(holder);
    if (holders.size > 0) return;
    byType.delete(type);
    if (byType.size === 0) this.#types.delete(name);
    if (byType.size <= 1) this.#mixedTypes.delete(name);
    this.#recheckSuffixes(name);
  }

  /** `name` changed its presence or types: re-decide it as a child and its three possible children. */
  #recheckSuffixes(name: string): void {
    for (const child of [name, `${name}_count`, `${name}_sum`, `${name}_bucket`]) {
      if (this.#collides(child) !== undefined) this.#suffixCollisions.add(child);
      else this.#suffixCollisions.delete(child);
    }
  }

  /** client_golang checkSuffixCollisions, as a relation between two present names. */
  #collides(child: string): { base: string; baseType: MetricType } | undefined {
    if (!this.#types.has(child)) return undefined;
    const base = baseName(child);
    if (base === undefined) return undefined;
    const types = this.#types.get(base);
    if (types === undefined) return undefined;
    if (types.has('HISTOGRAM')) return { base, baseType: 'HISTOGRAM' };
    if (types.has('SUMMARY') && !child.endsWith('_bucket')) return { base, baseType: 'SUMMARY' };
    return undefined;
  }

  #suffixInconsistency(child: string): Inconsistency {
    const found = this.#collides(child) ?? { base: baseName(child) ?? child, baseType: 'HISTOGRAM' as const };
    const holders = [...(this.#types.get(found.base)?.get(found.baseType) ?? [])];
    return { kind: 'suffix', child, base: found.base, baseType: found.baseType, holders };
  }
}

function holdersOf(holders: string | string[] | undefined): string[] {
  return holders === undefined ? [] : typeof holders === 'string' ? [holders] : holders;
}

/** The name without `_count`, `_sum` or `_bucket` (checked in that order, as Go does), or undefined. */
export function baseName(name: string): string | undefined {
  if (name.endsWith('_count')) return name.slice(0, -6);
  if (name.endsWith('_sum')) return name.slice(0, -4);
  if (name.endsWith('_bucket')) return name.slice(0, -7);
  return undefined;
}
