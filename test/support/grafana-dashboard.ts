/**
 * deploy/grafana/shardgate.json's queries, for tests: every panel target's
 * PromQL with Grafana's built-in interval variables replaced, and the metric
 * names a query reads.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { list, obj, str, type JsonObject } from './json-shape.js';

export const DASHBOARD_FILE = fileURLToPath(new URL('../../../deploy/grafana/shardgate.json', import.meta.url));

export interface DashboardQuery {
  readonly panel: string;
  readonly refId: string;
  readonly expr: string;
}

export function loadDashboard(): JsonObject {
  return obj(JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')), 'dashboard');
}

/** Every panel, rows' nested panels included. */
export function panelsOf(dashboard: JsonObject): JsonObject[] {
  return list(dashboard['panels'], 'panels').flatMap((p) => {
    const panel = obj(p, 'panel');
    return [panel, ...list(panel['panels'] ?? [], 'row panels').map((n) => obj(n, 'nested panel'))];
  });
}

export function dashboardQueries(dashboard: JsonObject = loadDashboard()): DashboardQuery[] {
  return panelsOf(dashboard).flatMap((p) =>
    list(p['targets'] ?? [], 'targets').map((t) => {
      const target = obj(t, 'target');
      return { panel: str(p['title'], 'title'), refId: str(target['refId'], 'refId'), expr: str(target['expr'], 'expr') };
    }),
  );
}

/** Grafana's interval variables ($__rate_interval, ${__interval}, $__range, …) set to one range. */
export function withRange(expr: string, range: string): string {
  return expr.replace(/\$\{?__(rate_interval|interval|range)\}?/g, range);
}

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

/** Metric names a query selects: identifiers that are not functions, keywords, labels or durations. */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const names = [...bare.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)\s*(\(?)/g)]
    .filter((m) => m[2] === '') // a name followed by "(" is a function or aggregation
    .map((m) => m[1] ?? '')
    .filter((n) => !KEYWORDS.has(n.toLowerCase()));
  return [...new Set(names)];
}
