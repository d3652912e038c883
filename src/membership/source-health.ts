/**
 * The membership source's own state (is its last answer usable, why not,
 * when it last gave one, how many targets), with its metrics and one log
 * line per change of state, never one per answer.
 */
import { type Logger } from '../telemetry/logger.js';
import { type Metrics } from '../telemetry/metrics.js';

export class SourceHealth {
  readonly #logger: Logger;
  readonly #metrics: Metrics;
  #healthy = true;
  #lastError: string | null = null;
  #lastUpdate: Date | null = null;
  #listed = 0;

  constructor(logger: Logger, metrics: Metrics) {
    this.#logger = logger;
    this.#metrics = metrics;
  }

  get healthy(): boolean {
    return this.#healthy;
  }
  get lastError(): string | null {
    return this.#lastError;
  }
  get lastUpdate(): Date | null {
    return this.#lastUpdate;
  }
  /** Targets in the last accepted answer. */
  get listed(): number {
    return this.#listed;
  }

  /** An answer with `listed` targets was accepted. */
  accepted(kind: string, listed: number): void {
    this.#listed = listed;
    this.#lastUpdate = new Date();
    this.#metrics.sourceUpdates.inc({ kind, result: 'success' });
    this.#metrics.sourceTargets.set({ kind }, listed);
    this.#metrics.sourceLastUpdate.set({ kind }, Date.now() / 1000);
    this.#metrics.sourceUp.set({ kind }, 1);
    if (!this.#healthy) this.#logger.info({ source: kind, targets: listed }, 'membership source answers again');
    this.#healthy = true;
    this.#lastError = null;
  }

  /** The source failed (`failure`) or its answer was ignored (`empty`); `kept` targets stay configured. */
  failed(kind: string, result: 'failure' | 'empty', reason: string, kept: number): void {
    this.#metrics.sourceUpdates.inc({ kind, result });
    this.#metrics.sourceUp.set({ kind }, 0);
    if (this.#healthy) this.#logger.warn({ source: kind, err: reason, kept }, 'membership source failing; keeping the last set of targets');
    this.#healthy = false;
    this.#lastError = reason;
  }
}
