/**
 * A target from issue 4 and whether this run met it. Every table in the
 * report carries its targets, so a reader never has to look them up.
 */
export interface TargetCheck {
  /** What is measured, e.g. "shards=8 / single at 1,000 groups". */
  readonly name: string;
  /** The target as written in the issue, e.g. "≥ 8×". */
  readonly target: string;
  /** The observed value, formatted. */
  readonly observed: string;
  readonly met: boolean;
}

export function check(name: string, target: string, observed: string, met: boolean): TargetCheck {
  return { name, target, observed, met };
}

export function verdict(met: boolean): 'met' | 'MISSED' {
  return met ? 'met' : 'MISSED';
}
