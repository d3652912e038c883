/**
 * The character classes, suffix rules and label signature of
 * expfmt.TextParser (prometheus/common v0.39 text_parse.go), for
 * text-parser.ts. Pure.
 */
const BLANK = 0x20;
const TAB = 0x09;

/** model.LabelsToSignature's identity: sorted names with their values. */
export function labelsSignature(labels: Map<string, string>): string {
  let out = '';
  for (const name of [...labels.keys()].sort()) {
    const value = labels.get(name) ?? '';
    out += `${name}=${value.length}:${value}`;
  }
  return out;
}

export function isBlankOrTab(b: number): boolean {
  return b === BLANK || b === TAB;
}
export function isLabelNameStart(b: number): boolean {
  return (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || b === 0x5f;
}
export function isLabelNameContinuation(b: number): boolean {
  return isLabelNameStart(b) || (b >= 0x30 && b <= 0x39);
}
export function isMetricNameStart(b: number): boolean {
  return isLabelNameStart(b) || b === 0x3a;
}
export function isMetricNameContinuation(b: number): boolean {
  return isLabelNameContinuation(b) || b === 0x3a;
}
export function isCount(name: string): boolean {
  return name.length > 6 && name.endsWith('_count');
}
export function isSum(name: string): boolean {
  return name.length > 4 && name.endsWith('_sum');
}
export function isBucket(name: string): boolean {
  return name.length > 7 && name.endsWith('_bucket');
}
/** summaryMetricName / histogramMetricName. */
export function stripSuffix(name: string, histogram: boolean): string {
  if (isCount(name)) return name.slice(0, -6);
  if (isSum(name)) return name.slice(0, -4);
  if (histogram && isBucket(name)) return name.slice(0, -7);
  return name;
}
