/**
 * Narrowing for parsed YAML/JSON in tests: each helper returns the value with
 * the type it must have, or fails the test with the path that did not fit.
 */
import assert from 'node:assert/strict';

export type JsonObject = Record<string, unknown>;

function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** `v` itself (not a copy: tests may mutate it), known to be an object. */
export function obj(v: unknown, at: string): JsonObject {
  assert.ok(isObject(v), `${at}: expected an object, got ${JSON.stringify(v)}`);
  return v;
}

/** `v` itself, known to be a list. */
export function list(v: unknown, at: string): unknown[] {
  assert.ok(Array.isArray(v), `${at}: expected a list, got ${JSON.stringify(v)}`);
  return v;
}

export function str(v: unknown, at: string): string {
  assert.equal(typeof v, 'string', `${at}: expected a string, got ${JSON.stringify(v)}`);
  return String(v);
}

export function num(v: unknown, at: string): number {
  assert.equal(typeof v, 'number', `${at}: expected a number, got ${JSON.stringify(v)}`);
  return Number(v);
}

/** Every leaf of `v` as [path, value] (list indexes as strings): the basis of subset checks. */
export function leaves(v: unknown, path: readonly string[] = []): Array<[string[], unknown]> {
  if (v !== null && typeof v === 'object') {
    return Object.entries(v).flatMap(([k, child]) => leaves(child, [...path, k]));
  }
  return [[[...path], v]];
}

/** The value at `path` (as leaves() gives it), or undefined. */
export function valueAt(v: unknown, path: readonly string[]): unknown {
  let cur: unknown = v;
  for (const part of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (Object.entries(cur).find(([k]) => k === part) ?? [])[1];
  }
  return cur;
}

export function first<T>(xs: readonly T[], what: string): T {
  const x = xs[0];
  assert.ok(x !== undefined, `${what}: empty`);
  return x;
}
