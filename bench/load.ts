/**
 * Closed-loop load with autocannon, and the measurement window every load
 * generator here shares.
 *
 * One autocannon run covers warm-up and measurement: only responses that
 * complete inside the measurement window count. (A separate warm-up run
 * would abandon its in-flight requests, and a slow pushgateway would still
 * be working them off during the measurement.) Latencies come from
 * autocannon's per-response event, in fractional milliseconds; its own
 * histogram rounds to whole milliseconds.
 */
import autocannon from 'autocannon';
import { percentile, round } from './stats.js';

export interface LoadResult {
  readonly generator: 'autocannon' | 'undici closed loop' | 'undici paced';
  readonly connections: number;
  /** Offered rate for paced load, else undefined. */
  readonly offeredRps?: number;
  readonly windowSeconds: number;
  /** Responses completed in the window (any status). */
  readonly responses: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  readonly maxMs: number;
  /** Connection errors and timeouts in the window. */
  readonly errors: number;
  readonly non2xx: number;
  readonly statusCodes: Readonly<Record<string, number>>;
}

/** Called when the measurement window opens and closes (e.g. to sample CPU time). */
export interface WindowHooks {
  onStart?(): void;
  onEnd?(): void;
}

export interface Timing {
  readonly warmupSeconds: number;
  readonly durationSeconds: number;
}

export interface AutocannonSpec extends Timing {
  /** Origin, e.g. http://127.0.0.1:9091. */
  readonly url: string;
  readonly paths: readonly string[];
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly connections: number;
  readonly timeoutSeconds?: number;
  readonly hooks?: WindowHooks;
}

/**
 * PUTs `body` to `paths` from `connections` connections as fast as they
 * are answered. Connection k cycles over paths k, k+C, k+2C, ..., so two
 * in-flight requests never target the same group and all paths are used.
 */
export async function autocannonLoad(spec: AutocannonSpec): Promise<LoadResult> {
  if (spec.paths.length < spec.connections) throw new RangeError(`need at least ${spec.connections} paths, got ${spec.paths.length}`);
  const window = new MeasurementWindow();
  let clientIndex = 0;
  const instance = autocannon({
    url: spec.url,
    method: 'PUT',
    body: spec.body,
    headers: { ...spec.headers },
    connections: spec.connections,
    duration: spec.warmupSeconds + spec.durationSeconds + 0.5,
    timeout: spec.timeoutSeconds ?? 60,
    requests: [{ method: 'PUT', path: spec.paths[0] ?? '/' }],
    setupClient: (client) => {
      const k = clientIndex++;
      const requests: autocannon.Request[] = [];
      for (let i = k; i < spec.paths.length; i += spec.connections) requests.push({ method: 'PUT', path: spec.paths[i] ?? '/' });
      client.setRequests(requests);
    },
  });
  instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTimeMs: number) => window.response(statusCode, responseTimeMs));
  instance.on('reqError', () => window.error());
  const timers = window.schedule(spec, spec.hooks);
  try {
    await instance;
  } finally {
    timers.cancel();
  }
  return window.result('autocannon', spec.connections);
}

/**
 * Collects responses completed between open and close. Not reusable:
 * one window per load run.
 */
export class MeasurementWindow {
  #open = false;
  #openedAt = 0;
  #closedAt = 0;
  readonly #latencies: number[] = [];
  readonly #codes = new Map<number, number>();
  #errors = 0;

  get isOpen(): boolean {
    return this.#open;
  }

  response(status: number, latencyMs: number): void {
    if (!this.#open) return;
    this.#latencies.push(latencyMs);
    this.#codes.set(status, (this.#codes.get(status) ?? 0) + 1);
  }

  error(): void {
    if (this.#open) this.#errors++;
  }

  open(): void {
    this.#open = true;
    this.#openedAt = performance.now();
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#closedAt = performance.now();
  }

  /** Opens after the warm-up and closes after the duration, calling the hooks. */
  schedule(timing: Timing, hooks?: WindowHooks): { cancel(): void } {
    const openTimer = setTimeout(() => {
      hooks?.onStart?.();
      this.open();
    }, timing.warmupSeconds * 1000);
    const closeTimer = setTimeout(() => {
      this.close();
      hooks?.onEnd?.();
    }, (timing.warmupSeconds + timing.durationSeconds) * 1000);
    return {
      cancel: () => {
        clearTimeout(openTimer);
        clearTimeout(closeTimer);
        this.close();
      },
    };
  }

  result(generator: LoadResult['generator'], connections: number, offeredRps?: number): LoadResult {
    const seconds = Math.max(1e-9, (this.#closedAt - this.#openedAt) / 1000);
    const sorted = Float64Array.from(this.#latencies).sort();
    const statusCodes: Record<string, number> = {};
    let non2xx = 0;
    for (const [code, n] of [...this.#codes].sort((a, b) => a[0] - b[0])) {
      statusCodes[String(code)] = n;
      if (code < 200 || code >= 300) non2xx += n;
    }
    return {
      generator,
      connections,
      ...(offeredRps === undefined ? {} : { offeredRps }),
      windowSeconds: round(seconds, 3),
      responses: sorted.length,
      rps: round(sorted.length / seconds, 1),
      p50Ms: round(percentile(sorted, 0.5), 3),
      p99Ms: round(percentile(sorted, 0.99), 3),
      meanMs: round(sorted.length === 0 ? NaN : sorted.reduce((a, b) => a + b, 0) / sorted.length, 3),
      maxMs: round(sorted.length === 0 ? NaN : (sorted[sorted.length - 1] ?? NaN), 3),
      errors: this.#errors,
      non2xx,
      statusCodes,
    };
  }
}
