/**
 * A parsed push, as Pushgateway's handler holds it after decoding
 * (`map[string]*dto.MetricFamily`), reduced to what the consistency check
 * needs: names, types, HELP, label pairs, which value fields are set, and
 * whether a timestamp was given. Sample values are not kept.
 */

export type MetricType = 'COUNTER' | 'GAUGE' | 'SUMMARY' | 'UNTYPED' | 'HISTOGRAM';

/** client_model's MetricType enum numbers (v0.3.0, what Pushgateway 1.5.1 builds with). */
export const METRIC_TYPES: readonly MetricType[] = ['COUNTER', 'GAUGE', 'SUMMARY', 'UNTYPED', 'HISTOGRAM'];

/** Bits of `ParsedMetric.values`: which of dto.Metric's value messages are present. */
export const VALUE_BIT: Readonly<Record<MetricType, number>> = { COUNTER: 1, GAUGE: 2, SUMMARY: 4, UNTYPED: 8, HISTOGRAM: 16 };

export interface LabelPair {
  readonly name: string;
  readonly value: string;
  /** False when the value's bytes are not valid UTF-8 (possible in protobuf only). */
  readonly utf8: boolean;
}

export interface ParsedMetric {
  /** In the order they were given (Pushgateway sorts them when it stores them). */
  readonly labels: LabelPair[];
  /** VALUE_BIT flags. */
  values: number;
  hasTimestamp: boolean;
}

export interface ParsedFamily {
  readonly name: string;
  help: string | undefined;
  type: MetricType;
  readonly metrics: ParsedMetric[];
}

/** Families by name, as Pushgateway's handler keys them (a later protobuf family of the same name replaces an earlier one). */
export type ParsedPush = Map<string, ParsedFamily>;
