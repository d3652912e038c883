/**
 * The check a Pushgateway with `--push.disable-consistency-check` off runs
 * on each PUT/POST (storage/diskmetricstore.go `checkWriteRequest`, then
 * client_golang v1.14 `Gatherers.Gather` over its own families and the
 * whole store), run against the FleetIndex instead of one store, in time
 * proportional to the push:
 *
 * 1. any sample with a timestamp: rejected;
 * 2. labels sanitised as the pushgateway stores them (series.ts);
 * 3. per metric (checkMetricConsistency): the value matches the family's
 *    type, no repeated, invalid or `__` label names, no `quantile` label on
 *    a summary, UTF-8 label values;
 * 4. the push applied to the index as processWriteRequest applies it (PUT
 *    replaces the group but its push_time_seconds/push_failure_time_seconds,
 *    POST replaces same-named families; push_time_seconds is always the
 *    pushgateway's gauge, push_failure_time_seconds too unless the group
 *    already exists), then the whole fleet must be consistent (fleet-index.ts):
 *    no type conflict (with other groups or the pushgateways' own families),
 *    no series produced twice, no suffix collision. HELP is never compared.
 *
 * A rejected push leaves the index as a rejected push leaves a checked
 * pushgateway (setPushFailedTimestamp): the group is created if missing,
 * holding only its two timestamp gauges.
 */
import { groupId, type GroupingKey } from '../groupingkey/grouping-key.js';
import { goQuote } from '../exposition/go-quote.js';
import { type ParsedPush, type ParsedFamily, VALUE_BIT } from '../exposition/metric-family.js';
import { type FamilyEntry, type FleetIndex, type Inconsistency, OWN } from './fleet-index.js';
import { PUSH_FAILURE_TIME, PUSH_TIME } from './own-families.js';
import { identityParts, type Pair, protoTextLabels, sanitizedLabels, seriesIdentity } from './series.js';

export const REJECTION_PREFIX = 'pushed metrics are invalid or inconsistent with existing metrics: ';

export type Verdict =
  | { readonly accepted: true; /** Reverts the push in the index (when forwarding failed). */ undo(): void }
  | { readonly accepted: false; readonly message: string; readonly conflictingGroup: GroupingKey | undefined };

const PUSH_TIME_HELP = 'Last Unix time when changing this group in the Pushgateway succeeded.';
const PUSH_FAILURE_HELP = 'Last Unix time when changing this group in the Pushgateway failed.';
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

class Rejection extends Error {}

/**
 * Decides a PUT/POST and, when accepted, applies it to the index. Synchronous:
 * no other check runs between the decision and the update.
 */
export function admitPush(index: FleetIndex, method: 'PUT' | 'POST', key: GroupingKey, push: ParsedPush): Verdict {
  const id = groupId(key);
  const existing = index.group(id);
  let pushed: Map<string, FamilyEntry>;
  try {
    pushed = pushedEntries(push, key, existing !== undefined);
  } catch (err) {
    if (!(err instanceof Rejection)) throw err;
    recordFailure(index, id, key);
    return { accepted: false, message: REJECTION_PREFIX + err.message, conflictingGroup: undefined };
  }
  const changes = new Map<string, FamilyEntry | undefined>();
  if (method === 'PUT' && existing !== undefined) {
    for (const name of existing.families.keys()) if (name !== PUSH_TIME && name !== PUSH_FAILURE_TIME) changes.set(name, undefined);
  }
  for (const [name, entry] of pushed) changes.set(name, entry);
  if (existing === undefined) changes.set(PUSH_TIME, timestampGauge(PUSH_TIME, PUSH_TIME_HELP, key));
  if (existing?.families.has(PUSH_FAILURE_TIME) !== true) changes.set(PUSH_FAILURE_TIME, timestampGauge(PUSH_FAILURE_TIME, PUSH_FAILURE_HELP, key));

  const previous = new Map<string, FamilyEntry | undefined>();
  for (const [name, entry] of changes) {
    previous.set(name, existing?.families.get(name));
    index.setFamily(id, key, name, entry);
  }
  const undo = (): void => {
    for (const [name, entry] of previous) index.setFamily(id, key, name, entry);
    if (existing === undefined) index.setGroup(id, undefined);
  };
  if (index.consistent()) return { accepted: true, undo };
  const found = index.inconsistency(new Set(pushed.keys()));
  const described = found === undefined ? { message: 'inconsistent', holder: undefined } : describe(found, id, pushed);
  undo();
  recordFailure(index, id, key);
  const conflictingGroup = described.holder === undefined ? undefined : index.group(described.holder)?.key;
  return { accepted: false, message: REJECTION_PREFIX + described.message, conflictingGroup };
}

/** A rejected push creates its group with only the two timestamp gauges, as setPushFailedTimestamp does. */
function recordFailure(index: FleetIndex, id: string, key: GroupingKey): void {
  const group = index.group(id);
  if (group?.families.has(PUSH_FAILURE_TIME) !== true) index.setFamily(id, key, PUSH_FAILURE_TIME, timestampGauge(PUSH_FAILURE_TIME, PUSH_FAILURE_HELP, key));
  if (group?.families.has(PUSH_TIME) !== true) index.setFamily(id, key, PUSH_TIME, timestampGauge(PUSH_TIME, PUSH_TIME_HELP, key));
}

export function timestampGauge(name: string, help: string, key: GroupingKey): FamilyEntry {
  return { type: 'GAUGE', help, series: [seriesIdentity(name, sanitizedLabels([], key))] };
}

/** Steps 1–3: the pushed families as index entries, or a Rejection. */
function pushedEntries(push: ParsedPush, key: GroupingKey, groupExists: boolean): Map<string, FamilyEntry> {
  for (const family of push.values()) {
    for (const m of family.metrics) if (m.hasTimestamp) throw new Rejection('pushed metrics must not have timestamps');
  }
  const out = new Map<string, FamilyEntry>();
  for (const [name, family] of push) {
    if (name === PUSH_TIME || (name === PUSH_FAILURE_TIME && !groupExists)) continue;
    out.set(name, { type: family.type, help: family.help ?? '', series: checkedSeries(family, key) });
  }
  return out;
}

function checkedSeries(family: ParsedFamily, key: GroupingKey): string[] {
  const series: string[] = [];
  const name = family.name;
  for (const m of family.metrics) {
    const pairs = sanitizedLabels(m.labels, key);
    const shown = (): string => `collected metric ${goQuote(name)} { ${protoTextLabels(pairs)}}`;
    if ((m.values & VALUE_BIT[family.type]) === 0) throw new Rejection(`${shown()} is not a ${family.type}`);
    let previous: string | undefined;
    for (const [labelName] of pairs) {
      if (labelName === previous) throw new Rejection(`${shown()} has two or more labels with the same name: ${labelName}`);
      if (!LABEL_NAME.test(labelName) || labelName.startsWith('__')) throw new Rejection(`${shown()} has a label with an invalid name: ${labelName}`);
      if ((m.values & VALUE_BIT.SUMMARY) !== 0 && labelName === 'quantile') throw new Rejection(`${shown()} must not have an explicit "quantile" label`);
      previous = labelName;
    }
    const bad = m.labels.find((l) => !l.utf8 && !(l.name in key));
    if (bad !== undefined) throw new Rejection(`${shown()} has a label named ${goQuote(bad.name)} whose value is not utf8: ${goQuote(bad.value)}`);
    series.push(seriesIdentity(name, pairs));
  }
  return series;
}

/** client_golang's wording for the inconsistency, and the other group involved. */
function describe(found: Inconsistency, id: string, pushed: ReadonlyMap<string, FamilyEntry>): { message: string; holder: string | undefined } {
  const other = (holders: Iterable<string>): string | undefined => {
    let self: string | undefined;
    for (const h of holders) {
      if (h !== id) return h;
      self = h;
    }
    return self;
  };
  switch (found.kind) {
    case 'series': {
      const { name, pairs } = identityParts(found.identity);
      return { message: `collected metric ${goQuote(name)} { ${protoTextLabels(pairs)}} was collected before with the same name and label values`, holder: other(found.holders) };
    }
    case 'type': {
      const own = [...found.types].find(([, holders]) => holders.has(OWN));
      const mine = pushed.get(found.name);
      if (own !== undefined) {
        const storeType = mine?.type ?? [...found.types.keys()].find((t) => t !== own[0]) ?? own[0];
        return { message: `gathered metric family ${found.name} has type ${storeType} but should have ${own[0]}`, holder: undefined };
      }
      const [otherType, holders] = [...found.types].find(([type]) => type !== mine?.type) ?? [...found.types][0] ?? ['UNTYPED', new Set<string>()];
      const series = mine?.series[0];
      const pairs: Pair[] = series === undefined ? [] : identityParts(series).pairs;
      return { message: `collected metric ${goQuote(found.name)} { ${protoTextLabels(pairs)}} is not a ${otherType}`, holder: other(holders) };
    }
    case 'suffix': {
      const childPushed = pushed.has(found.child);
      const holder = childPushed ? other(found.holders) : undefined;
      const kind = found.baseType === 'HISTOGRAM' ? 'histogram' : 'summary';
      return { message: `collected metric named ${goQuote(found.child)} collides with previously collected ${kind} named ${goQuote(found.base)}`, holder };
    }
  }
}

