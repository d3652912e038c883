/**
 * Text exposition format 0.0.4, parsed as Pushgateway 1.5.1 parses a push:
 * a transcription of prometheus/common v0.39 `expfmt.TextParser` (the
 * state machine in text_parse.go), byte by byte, with the same error
 * messages (`text format parsing error in line N: ...`). Pure.
 *
 * Behaviours kept on purpose because Pushgateway has them: a body must end
 * in a newline (else "unexpected end of input stream"); a family with a
 * TYPE or HELP line but no sample is dropped; a sample before any TYPE line
 * makes the family untyped; `x_count`/`x_sum`(/`x_bucket`) lines join the
 * summary (histogram) `x` declared before them, grouped by their labels
 * without `quantile` (`le`); HELP unescapes `\\` and `\n` only, label
 * values also `\"`.
 */
import { isUtf8 } from 'node:buffer';
import { goQuote, goQuoteByte, goQuoteBytes } from './go-quote.js';
import { METRIC_TYPES, type ParsedFamily, type ParsedMetric, type ParsedPush, VALUE_BIT } from './metric-family.js';
import { parseGoFloat, parseGoInt64 } from './go-number.js';
import { isBlankOrTab, isLabelNameContinuation, isLabelNameStart, isMetricNameContinuation, isMetricNameStart, labelsSignature, stripSuffix } from './text-chars.js';

export class TextParseError extends Error {
  override readonly name = 'TextParseError';
  constructor(
    readonly line: number,
    readonly msg: string,
  ) {
    super(`text format parsing error in line ${line}: ${msg}`);
  }
}

type State = (() => State) | null;
const EOF = Symbol('EOF');
const NL = 0x0a;

interface Family extends ParsedFamily {
  typeSet: boolean;
}

/** @throws TextParseError */
export function parseText(body: Uint8Array): ParsedPush {
  return new Parser(body).run();
}

class Parser {
  readonly #buf: Buffer;
  #pos = 0;
  #err: TextParseError | typeof EOF | undefined;
  #line = 0;
  #byte = 0;
  /** The current token: buffer bytes [#tokenStart, #tokenEnd), or #tokenBytes when escapes were decoded. */
  #tokenStart = 0;
  #tokenEnd = 0;
  #tokenBytes: number[] | undefined;
  readonly #families = new Map<string, Family>();
  #mf: Family | undefined;
  #metric: ParsedMetric | undefined;
  #labelName = '';
  /** Index in the metric's labels of the label whose value is read next; -1 when it is not kept (quantile, le). */
  #pendingLabel = -1;
  #labels = new Map<string, string>();
  #summaries = new Map<string, ParsedMetric>();
  #histograms = new Map<string, ParsedMetric>();

  constructor(buf: Uint8Array) {
    this.#buf = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  run(): ParsedPush {
    for (let next: State = this.#startOfLine; next !== null; ) next = next.call(this);
    const out: ParsedPush = new Map();
    if (this.#err === EOF) this.#err = new TextParseError(this.#line, 'unexpected end of input stream');
    if (this.#err !== undefined) throw this.#err;
    for (const [name, mf] of this.#families) {
      if (mf.metrics.length > 0) out.set(name, { name, help: mf.help, type: mf.type, metrics: mf.metrics });
    }
    return out;
  }

  #fail(msg: string): null {
    this.#err = new TextParseError(this.#line, msg);
    return null;
  }

  #readByte(): void {
    if (this.#pos >= this.#buf.length) {
      this.#byte = 0;
      this.#err = EOF;
      return;
    }
    this.#byte = this.#buf[this.#pos++] ?? 0;
  }

  #skipBlankTab(): void {
    for (;;) {
      this.#readByte();
      if (this.#err !== undefined || !isBlankOrTab(this.#byte)) return;
    }
  }

  #skipBlankTabIfCurrentBlankTab(): void {
    if (isBlankOrTab(this.#byte)) this.#skipBlankTab();
  }

  #tokenString(): string {
    if (this.#tokenBytes !== undefined) return Buffer.from(this.#tokenBytes).toString('utf8');
    return this.#buf.toString('utf8', this.#tokenStart, this.#tokenEnd);
  }

  #tokenRaw(): Uint8Array {
    return this.#tokenBytes !== undefined ? Uint8Array.from(this.#tokenBytes) : this.#buf.subarray(this.#tokenStart, this.#tokenEnd);
  }

  get #tokenLength(): number {
    return this.#tokenBytes !== undefined ? this.#tokenBytes.length : this.#tokenEnd - this.#tokenStart;
  }

  /** Starts a token whose first byte is the current one (already read). */
  #beginToken(): void {
    this.#tokenBytes = undefined;
    this.#tokenStart = this.#pos - 1;
    this.#tokenEnd = this.#tokenStart;
  }

  /** The current byte belongs to the token. */
  #takeByte(): void {
    if (this.#tokenBytes !== undefined) this.#tokenBytes.push(this.#byte);
    else this.#tokenEnd = this.#pos;
  }

  /** Switches the token to decoded bytes (an escape was met). */
  #decoded(): number[] {
    this.#tokenBytes ??= Array.from(this.#buf.subarray(this.#tokenStart, this.#tokenEnd));
    return this.#tokenBytes;
  }

  #startOfLine(): State {
    this.#line++;
    this.#skipBlankTab();
    if (this.#err !== undefined) {
      this.#err = undefined;
      return null;
    }
    if (this.#byte === 0x23) return this.#startComment;
    if (this.#byte === NL) return this.#startOfLine;
    return this.#readingMetricName;
  }

  #startComment(): State {
    this.#skipBlankTab();
    if (this.#err !== undefined) return null;
    if (this.#byte === NL) return this.#startOfLine;
    this.#readTokenUntilWhitespace();
    if (this.#err !== undefined) return null;
    if (this.#byte === NL) return this.#startOfLine;
    const keyword = this.#tokenString();
    if (keyword !== 'HELP' && keyword !== 'TYPE') {
      while (this.#byte !== NL) {
        this.#readByte();
        if (this.#err !== undefined) return null;
      }
      return this.#startOfLine;
    }
    this.#skipBlankTab();
    if (this.#err !== undefined) return null;
    this.#readTokenAsMetricName();
    if (this.#err !== undefined) return null;
    if (this.#byte === NL) return this.#startOfLine;
    if (!isBlankOrTab(this.#byte)) return this.#fail('invalid metric name in comment');
    this.#setOrCreateCurrentMF();
    this.#skipBlankTab();
    if (this.#err !== undefined) return null;
    if (this.#byte === NL) return this.#startOfLine;
    return keyword === 'HELP' ? this.#readingHelp : this.#readingType;
  }

  #readingMetricName(): State {
    this.#readTokenAsMetricName();
    if (this.#err !== undefined) return null;
    if (this.#tokenLength === 0) return this.#fail('invalid metric name');
    const mf = this.#setOrCreateCurrentMF();
    mf.typeSet = true; // An untyped family from here on: a later TYPE line is an error.
    this.#metric = { labels: [], values: 0, hasTimestamp: false };
    this.#skipBlankTabIfCurrentBlankTab();
    if (this.#err !== undefined) return null;
    return this.#readingLabels;
  }

  #readingLabels(): State {
    const mf = this.#currentMF();
    if (mf.type === 'SUMMARY' || mf.type === 'HISTOGRAM') {
      this.#labels = new Map([['__name__', mf.name]]);
    }
    if (this.#byte !== 0x7b) return this.#readingValue;
    return this.#startLabelName;
  }

  #startLabelName(): State {
    this.#skipBlankTab();
    if (this.#err !== undefined) return null;
    if (this.#byte === 0x7d) {
      this.#skipBlankTab();
      if (this.#err !== undefined) return null;
      return this.#readingValue;
    }
    this.#readTokenAsLabelName();
    if (this.#err !== undefined) return null;
    const mf = this.#currentMF();
    if (this.#tokenLength === 0) return this.#fail(`invalid label name for metric ${goQuote(mf.name)}`);
    const name = this.#tokenString();
    this.#labelName = name;
    if (name === '__name__') return this.#fail(`label name ${goQuote('__name__')} is reserved`);
    const metric = this.#currentMetric();
    const kept = !(mf.type === 'SUMMARY' && name === 'quantile') && !(mf.type === 'HISTOGRAM' && name === 'le');
    this.#pendingLabel = kept ? metric.labels.push({ name, value: '', utf8: true }) - 1 : -1;
    this.#skipBlankTabIfCurrentBlankTab();
    if (this.#err !== undefined) return null;
    if (this.#byte !== 0x3d) return this.#fail(`expected '=' after label name, found ${goQuoteByte(this.#byte)}`);
    const seen = new Set<string>();
    for (const l of metric.labels) {
      if (seen.has(l.name)) return this.#fail(`duplicate label names for metric ${goQuote(mf.name)}`);
      seen.add(l.name);
    }
    return this.#startLabelValue;
  }

  #startLabelValue(): State {
    this.#skipBlankTab();
    if (this.#err !== undefined) return null;
    if (this.#byte !== 0x22) return this.#fail(`expected '"' at start of label value, found ${goQuoteByte(this.#byte)}`);
    this.#readTokenAsLabelValue();
    if (this.#err !== undefined) return null;
    const bytes = this.#tokenRaw();
    if (!isUtf8(bytes)) return this.#fail(`invalid label value ${goQuoteBytes(bytes)}`);
    const value = Buffer.from(bytes).toString('utf8');
    const mf = this.#currentMF();
    const metric = this.#currentMetric();
    const name = this.#labelName;
    if (this.#pendingLabel >= 0) metric.labels[this.#pendingLabel] = { name, value, utf8: true };
    if (mf.type === 'SUMMARY') {
      if (name === 'quantile') {
        const q = parseGoFloat(value);
        if (q === undefined) return this.#fail(`expected float as value for 'quantile' label, got ${goQuote(value)}`);
      } else this.#labels.set(name, value);
    }
    if (mf.type === 'HISTOGRAM') {
      if (name === 'le') {
        const le = parseGoFloat(value);
        if (le === undefined) return this.#fail(`expected float as value for 'le' label, got ${goQuote(value)}`);
      } else this.#labels.set(name, value);
    }
    this.#skipBlankTab();
    if (this.#err !== undefined) return null;
    const after: number = this.#byte;
    if (after === 0x2c) return this.#startLabelName;
    if (after === 0x7d) {
      this.#skipBlankTab();
      if (this.#err !== undefined) return null;
      return this.#readingValue;
    }
    return this.#fail(`unexpected end of label value ${goQuote(value)}`);
  }

  #readingValue(): State {
    const mf = this.#currentMF();
    if (mf.type === 'SUMMARY' || mf.type === 'HISTOGRAM') {
      const groups = mf.type === 'SUMMARY' ? this.#summaries : this.#histograms;
      const signature = labelsSignature(this.#labels);
      const existing = groups.get(signature);
      if (existing !== undefined) this.#metric = existing;
      else {
        groups.set(signature, this.#currentMetric());
        mf.metrics.push(this.#currentMetric());
      }
    } else mf.metrics.push(this.#currentMetric());
    this.#readTokenUntilWhitespace();
    if (this.#err !== undefined) return null;
    const text = this.#tokenString();
    if (parseGoFloat(text) === undefined) return this.#fail(`expected float as value, got ${goQuote(text)}`);
    // Which value message is set: only its presence matters to the check.
    this.#currentMetric().values |= VALUE_BIT[mf.type];
    if (this.#byte === NL) return this.#startOfLine;
    return this.#startTimestamp;
  }

  #startTimestamp(): State {
    this.#skipBlankTab();
    if (this.#err !== undefined) return null;
    this.#readTokenUntilWhitespace();
    if (this.#err !== undefined) return null;
    const text = this.#tokenString();
    if (parseGoInt64(text) === undefined) return this.#fail(`expected integer as timestamp, got ${goQuote(text)}`);
    this.#currentMetric().hasTimestamp = true;
    this.#readTokenUntilNewline(false);
    if (this.#err !== undefined) return null;
    if (this.#tokenLength > 0) return this.#fail(`spurious string after timestamp: ${goQuoteBytes(this.#tokenRaw())}`);
    return this.#startOfLine;
  }

  #readingHelp(): State {
    const mf = this.#currentMF();
    if (mf.help !== undefined) return this.#fail(`second HELP line for metric name ${goQuote(mf.name)}`);
    this.#readTokenUntilNewline(true);
    if (this.#err !== undefined) return null;
    mf.help = this.#tokenString();
    return this.#startOfLine;
  }

  #readingType(): State {
    const mf = this.#currentMF();
    if (mf.typeSet) return this.#fail(`second TYPE line for metric name ${goQuote(mf.name)}, or TYPE reported after samples`);
    this.#readTokenUntilNewline(false);
    if (this.#err !== undefined) return null;
    const text = this.#tokenString();
    const type = METRIC_TYPES.find((t) => t === text.toUpperCase());
    if (type === undefined) return this.#fail(`unknown metric type ${goQuoteBytes(this.#tokenRaw())}`);
    mf.type = type;
    mf.typeSet = true;
    return this.#startOfLine;
  }

  #readTokenUntilWhitespace(): void {
    this.#beginToken();
    while (this.#err === undefined && !isBlankOrTab(this.#byte) && this.#byte !== NL) {
      this.#takeByte();
      this.#readByte();
    }
  }

  #readTokenUntilNewline(escapes: boolean): void {
    this.#beginToken();
    let escaped = false;
    while (this.#err === undefined) {
      if (escapes && escaped) {
        if (this.#byte === 0x5c) this.#decoded().push(0x5c);
        else if (this.#byte === 0x6e) this.#decoded().push(NL);
        else {
          this.#fail(`invalid escape sequence '\\${String.fromCharCode(this.#byte)}'`);
          return;
        }
        escaped = false;
      } else if (this.#byte === NL) return;
      else if (this.#byte === 0x5c) {
        escaped = true;
        this.#decoded();
      } else this.#takeByte();
      this.#readByte();
    }
  }

  #readTokenAsMetricName(): void {
    this.#beginToken();
    if (!isMetricNameStart(this.#byte)) return;
    for (;;) {
      this.#takeByte();
      this.#readByte();
      if (this.#err !== undefined || !isMetricNameContinuation(this.#byte)) return;
    }
  }

  #readTokenAsLabelName(): void {
    this.#beginToken();
    if (!isLabelNameStart(this.#byte)) return;
    for (;;) {
      this.#takeByte();
      this.#readByte();
      if (this.#err !== undefined || !isLabelNameContinuation(this.#byte)) return;
    }
  }

  #readTokenAsLabelValue(): void {
    // The token starts after the opening quote.
    this.#tokenBytes = undefined;
    this.#tokenStart = this.#pos;
    this.#tokenEnd = this.#pos;
    let escaped = false;
    for (;;) {
      this.#readByte();
      if (this.#err !== undefined) return;
      if (escaped) {
        if (this.#byte === 0x22 || this.#byte === 0x5c) this.#decoded().push(this.#byte);
        else if (this.#byte === 0x6e) this.#decoded().push(NL);
        else {
          this.#fail(`invalid escape sequence '\\${String.fromCharCode(this.#byte)}'`);
          return;
        }
        escaped = false;
        continue;
      }
      if (this.#byte === 0x22) return;
      if (this.#byte === NL) {
        this.#fail(`label value ${goQuoteBytes(this.#tokenRaw())} contains unescaped new-line`);
        return;
      }
      if (this.#byte === 0x5c) {
        escaped = true;
        this.#decoded();
      } else this.#takeByte();
    }
  }

  #setOrCreateCurrentMF(): Family {
    const name = this.#tokenString();
    const existing = this.#families.get(name);
    if (existing !== undefined) return (this.#mf = existing);
    const summary = this.#families.get(stripSuffix(name, false));
    if (summary !== undefined && summary.type === 'SUMMARY' && summary.typeSet) return (this.#mf = summary);
    const histogram = this.#families.get(stripSuffix(name, true));
    if (histogram !== undefined && histogram.type === 'HISTOGRAM' && histogram.typeSet) return (this.#mf = histogram);
    const mf: Family = { name, help: undefined, type: 'UNTYPED', metrics: [], typeSet: false };
    this.#families.set(name, mf);
    return (this.#mf = mf);
  }

  #currentMF(): Family {
    if (this.#mf === undefined) throw new Error('text parser: no current family');
    return this.#mf;
  }

  #currentMetric(): ParsedMetric {
    if (this.#metric === undefined) throw new Error('text parser: no current metric');
    return this.#metric;
  }
}
