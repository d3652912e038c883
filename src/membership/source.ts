/**
 * Where the list of pushgateways comes from: the static `targets` list, a
 * Prometheus file_sd file, DNS, Consul or Kubernetes. A source only says which
 * targets exist (and with which labels); shardgate's own health checks still
 * decide whether each is in the ring, and the glue that combines the two
 * (drain on leave, shrink guard, flap damping) lives outside the sources.
 *
 * Contract for implementations:
 *  - `start(sink)` begins watching and resolves once the first answer (or the
 *    first failure) has been reported to the sink; it never rejects.
 *  - Every complete, valid answer is reported with `sink.update(targets)`, the
 *    whole set each time (not a diff), addresses as `host:port`, no duplicates.
 *    An answer identical to the previous one may be reported again; the glue
 *    ignores it.
 *  - A failure (unreachable, invalid or half-written answer) is reported with
 *    `sink.failed(reason)`; the source keeps retrying on its own schedule and
 *    does NOT report an empty set because of a failure.
 *  - After `stop()` the sink is never called again; timers and connections
 *    are released.
 */
export interface DiscoveredTarget {
  /** host:port of the pushgateway. */
  readonly address: string;
  /**
   * What the source knows about it (Consul tags/meta, Kubernetes pod and
   * namespace, file_sd labels), published to Prometheus as
   * `__meta_shardgate_<name>` labels. Names match [a-zA-Z_][a-zA-Z0-9_]*.
   */
  readonly labels: Readonly<Record<string, string>>;
  /**
   * The source says it is going away but still serves (a Kubernetes endpoint
   * that is terminating and serving): drain it, do not drop it.
   */
  readonly terminating?: boolean;
}

export interface SourceSink {
  update(targets: readonly DiscoveredTarget[]): void;
  failed(reason: string): void;
}

export interface MembershipSource {
  /** `static`, `file_sd`, `dns`, `consul` or `kubernetes`: used in logs, metrics and the API. */
  readonly kind: string;
  start(sink: SourceSink): Promise<void>;
  stop(): void;
}
