/**
 * Prometheus series selectors on grouping labels: `{job=~"batch-.*", env!="prod"}`.
 * Pure. The four matcher operators (`=`, `!=`, `=~`, `!~`) with Prometheus'
 * semantics: a regex matches the whole value (compiled as `^(?:re)$`, `.`
 * also matching a newline, like Prometheus' `^(?s:re)$`), and a label that is
 * absent matches as the empty value (so `{env=""}` selects groups without
 * `env`, and `{env!~"prod"}` selects them too).
 *
 * Differences kept on purpose: a metric name before the braces is refused
 * (a group has no name, only grouping labels), and regexes are JavaScript's
 * (RE2 syntax such as `(?P<name>…)` or `\z` is rejected as invalid, not
 * silently read otherwise).
 */

export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface Matcher {
  readonly name: string;
  readonly op: MatchOp;
  readonly value: string;
  /** The anchored regex, for `=~` and `!~`. */
  readonly re: RegExp | undefined;
}

/** A parsed selector: every matcher must match (AND). */
export interface Selector {
  /** The text it was parsed from, for logs, metrics and answers. */
  readonly text: string;
  readonly matchers: readonly Matcher[];
}

export class SelectorError extends Error {
  override readonly name = 'SelectorError';
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function parseSelector(text: string): Selector {
  const fail = (msg: string): never => {
    throw new SelectorError(`invalid selector ${JSON.stringify(text)}: ${msg}`);
  };
  let i = 0;
  const skipSpace = (): void => {
    while (i < text.length && /\s/.test(text[i] ?? '')) i++;
  };
  skipSpace();
  if (text[i] !== '{') fail(/^[a-zA-Z_:][a-zA-Z0-9_:]*\s*\{/.test(text.slice(i)) ? 'a metric name is not allowed (groups have only grouping labels): use {job="..."}' : 'must start with {');
  i++;
  const matchers: Matcher[] = [];
  for (;;) {
    skipSpace();
    if (text[i] === '}') {
      i++;
      break;
    }
    const nameStart = i;
    while (i < text.length && /[a-zA-Z0-9_]/.test(text[i] ?? '')) i++;
    const name = text.slice(nameStart, i);
    if (!LABEL_NAME.test(name)) fail(i >= text.length ? 'unexpected end, missing }' : `expected a label name at offset ${nameStart}`);
    skipSpace();
    const op = (['=~', '!~', '!=', '='] as const).find((o) => text.startsWith(o, i));
    if (op === undefined) fail(`expected one of =, !=, =~, !~ after ${name}`);
    else i += op.length;
    skipSpace();
    const [value, end] = readString(text, i, fail);
    i = end;
    matchers.push(matcher(name, op ?? '=', value, fail));
    skipSpace();
    if (text[i] === ',') {
      i++;
      continue;
    }
    if (text[i] === '}') {
      i++;
      break;
    }
    fail(i >= text.length ? 'unexpected end, missing }' : `expected , or } at offset ${i}`);
  }
  skipSpace();
  if (i < text.length) fail(`unexpected ${JSON.stringify(text.slice(i, i + 10))} after }`);
  // Prometheus refuses selectors that would match everything (every matcher matches the empty value).
  if (!matchers.some((m) => !matches(m, ''))) fail('needs at least one matcher that does not match the empty value (e.g. job=~".+")');
  return Object.freeze({ text: text.trim(), matchers: Object.freeze(matchers) });
}

function matcher(name: string, op: MatchOp, value: string, fail: (msg: string) => never): Matcher {
  if (op === '=' || op === '!=') return Object.freeze({ name, op, value, re: undefined });
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${value})$`, 'su');
  } catch (err) {
    return fail(`invalid regex for ${name}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return Object.freeze({ name, op, value, re });
}

/** Reads a "…", '…' or `…` string (Go/PromQL escapes in the first two) starting at `i`. */
function readString(text: string, i: number, fail: (msg: string) => never): [string, number] {
  const quote = text[i];
  if (quote !== '"' && quote !== "'" && quote !== '`') return fail(`expected a quoted value at offset ${i}`);
  let out = '';
  for (let j = i + 1; j < text.length; j++) {
    const c = text[j] ?? '';
    if (c === quote) return [out, j + 1];
    if (c !== '\\' || quote === '`') {
      out += c;
      continue;
    }
    const e = text[++j];
    const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", a: '\x07', b: '\b', f: '\f', v: '\v' };
    if (e !== undefined && simple[e] !== undefined) out += simple[e];
    else if (e === 'x' || e === 'u' || e === 'U') {
      const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = text.slice(j + 1, j + 1 + len);
      if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) fail(`bad \\${e} escape at offset ${j - 1}`);
      out += String.fromCodePoint(parseInt(hex, 16));
      j += len;
    } else fail(`unknown escape \\${e ?? ''} at offset ${j - 1}`);
  }
  return fail('unterminated string');
}

/** One matcher against a label value; an absent label is the empty value. */
export function matches(m: Matcher, value: string): boolean {
  switch (m.op) {
    case '=':
      return value === m.value;
    case '!=':
      return value !== m.value;
    case '=~':
      return m.re?.test(value) ?? false;
    case '!~':
      return !(m.re?.test(value) ?? false);
  }
}

/** Whether every matcher of `selector` matches the grouping labels `labels`. */
export function selects(selector: Selector, labels: Readonly<Record<string, string>>): boolean {
  return selector.matchers.every((m) => matches(m, labels[m.name] ?? ''));
}
