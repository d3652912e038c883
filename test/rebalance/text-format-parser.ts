/**
 * Test-only reader of Prometheus text format 0.0.4, written from the format
 * description rather than from src/rebalance/exposition.ts, so the property
 * tests check the renderer against an independent reading. Strict: anything
 * it does not understand throws.
 *
 * A sample belongs to the family of the last `# TYPE` line, and its name
 * must be that family's name or, for summaries and histograms, the name plus
 * `_sum`, `_count` (and `_bucket` for histograms).
 */

export interface ParsedSample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: string;
}

export interface ParsedFamily {
  readonly name: string;
  help: string | undefined;
  type: string | undefined;
  readonly samples: ParsedSample[];
}

export function parseTextFormat(text: string): Map<string, ParsedFamily> {
  const families = new Map<string, ParsedFamily>();
  let current: ParsedFamily | undefined;
  if (text !== '' && !text.endsWith('\n')) throw new Error('text does not end with a newline');
  const lines = text === '' ? [] : text.slice(0, -1).split('\n');
  for (const [i, line] of lines.entries()) {
    const where = `line ${i + 1} ${JSON.stringify(line)}`;
    const comment = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/s.exec(line); // s: HELP may hold U+2028 and friends
    if (comment !== null) {
      const [, keyword = '', name = '', rest = ''] = comment;
      const family = families.get(name) ?? { name, help: undefined, type: undefined, samples: [] };
      families.set(name, family);
      if (keyword === 'HELP') {
        if (family.help !== undefined || family.type !== undefined) throw new Error(`${where}: HELP must come first, once`);
        family.help = unescapeHelp(rest, where);
      } else {
        if (family.type !== undefined) throw new Error(`${where}: second TYPE`);
        family.type = rest;
        current = family;
      }
      continue;
    }
    const sample = parseSample(line, where);
    if (current === undefined || !belongsTo(sample.name, current)) throw new Error(`${where}: sample outside its family`);
    current.samples.push(sample);
  }
  return families;
}

function belongsTo(sampleName: string, family: ParsedFamily): boolean {
  if (sampleName === family.name) return family.type !== 'histogram';
  const suffixes = family.type === 'summary' ? ['_sum', '_count'] : family.type === 'histogram' ? ['_sum', '_count', '_bucket'] : [];
  return suffixes.some((s) => sampleName === family.name + s);
}

function parseSample(line: string, where: string): ParsedSample {
  const head = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
  if (head === null) throw new Error(`${where}: no metric name`);
  const name = head[1] ?? '';
  let pos = name.length;
  const labels: Record<string, string> = {};
  if (line[pos] === '{') {
    pos++;
    while (line[pos] !== '}') {
      const labelName = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(line.slice(pos));
      if (labelName === null) throw new Error(`${where}: bad label at ${pos}`);
      const ln = labelName[1] ?? '';
      if (Object.hasOwn(labels, ln)) throw new Error(`${where}: duplicate label ${ln}`);
      pos += labelName[0].length;
      let value = '';
      for (;;) {
        const c = line[pos++];
        if (c === undefined) throw new Error(`${where}: unterminated label value`);
        if (c === '"') break;
        if (c !== '\\') {
          value += c;
          continue;
        }
        const e = line[pos++];
        if (e === '\\' || e === '"') value += e;
        else if (e === 'n') value += '\n';
        else throw new Error(`${where}: bad escape \\${String(e)}`);
      }
      labels[ln] = value;
      if (line[pos] === ',') pos++;
      else if (line[pos] !== '}') throw new Error(`${where}: expected , or } at ${pos}`);
    }
    pos++;
  }
  if (line[pos] !== ' ') throw new Error(`${where}: expected one space before the value`);
  const value = line.slice(pos + 1);
  if (!/^\S+$/.test(value)) throw new Error(`${where}: value must be one token (no timestamp)`);
  return { name, labels, value };
}

function unescapeHelp(text: string, where: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = text[++i];
    if (e === '\\') out += '\\';
    else if (e === 'n') out += '\n';
    else throw new Error(`${where}: bad HELP escape \\${String(e)}`);
  }
  return out;
}
