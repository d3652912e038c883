/**
 * Load shapes autocannon cannot make, on the undici PushClient:
 *  - closed loop that follows shardgate's 307 (latency = 307 round trip +
 *    the push to the owner, as a redirect-following client sees it);
 *  - paced open loop: requests start on an even schedule at a fixed rate,
 *    and latency is measured from the scheduled start, so a stall is not
 *    hidden by the generator waiting (no coordinated omission).
 *    autocannon's `overallRate` is not used for this: it lets each
 *    connection send its per-second quota back to back and then idle, so
 *    "half load" is full load for half of every second.
 */
import { PushClient } from './push-client.js';
import { MeasurementWindow, type LoadResult, type Timing, type WindowHooks } from './load.js';

export interface UndiciSpec extends Timing {
  readonly origin: string;
  readonly paths: readonly string[];
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Closed loop: concurrent workers. Paced: max connections per origin. */
  readonly connections: number;
  readonly followRedirects: boolean;
  readonly hooks?: WindowHooks;
}

export interface UndiciOutcome extends LoadResult {
  /** Redirects followed per response in the window (1.0 in redirect mode). */
  readonly redirectsPerResponse: number;
}

/** Closed loop: `connections` workers, worker k cycling over paths k, k+C, ... */
export async function undiciClosedLoop(spec: UndiciSpec): Promise<UndiciOutcome> {
  const client = new PushClient({ connections: spec.connections, body: spec.body, headers: { ...spec.headers }, followRedirects: spec.followRedirects });
  const window = new MeasurementWindow();
  const counter = { redirects: 0 };
  const timers = window.schedule(spec, spec.hooks);
  const endAt = performance.now() + (spec.warmupSeconds + spec.durationSeconds) * 1000;
  const worker = async (k: number): Promise<void> => {
    for (let i = k; performance.now() < endAt; i += spec.connections) {
      const path = spec.paths[i % spec.paths.length] ?? '/';
      await send(client, spec.origin, path, performance.now(), window, counter);
    }
  };
  try {
    await Promise.all(Array.from({ length: spec.connections }, (_, k) => worker(k)));
  } finally {
    timers.cancel();
    await client.close();
  }
  return withRedirects(window.result('undici closed loop', spec.connections), counter.redirects);
}

/** Paced open loop at `rps` requests per second, spread evenly (1 ms timer granularity). */
export async function undiciPaced(spec: UndiciSpec & { readonly rps: number }): Promise<UndiciOutcome> {
  const client = new PushClient({ connections: spec.connections, body: spec.body, headers: { ...spec.headers }, followRedirects: spec.followRedirects });
  const window = new MeasurementWindow();
  const counter = { redirects: 0 };
  const timers = window.schedule(spec, spec.hooks);
  const intervalMs = 1000 / spec.rps;
  const startAt = performance.now();
  const endAt = startAt + (spec.warmupSeconds + spec.durationSeconds) * 1000;
  const inFlight = new Set<Promise<void>>();
  let next = startAt;
  let i = 0;
  try {
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        const now = performance.now();
        for (; next <= now && next < endAt; next += intervalMs) {
          const p = send(client, spec.origin, spec.paths[i++ % spec.paths.length] ?? '/', next, window, counter);
          inFlight.add(p);
          void p.finally(() => inFlight.delete(p));
        }
        if (next < endAt) setTimeout(tick, 1);
        else resolve();
      };
      tick();
    });
    await Promise.allSettled([...inFlight]);
  } finally {
    timers.cancel();
    await client.close();
  }
  return withRedirects(window.result('undici paced', spec.connections, spec.rps), counter.redirects);
}

async function send(client: PushClient, origin: string, path: string, startedAt: number, window: MeasurementWindow, counter: { redirects: number }): Promise<void> {
  try {
    const out = await client.push(origin, path);
    if (window.isOpen) counter.redirects += out.redirects;
    window.response(out.status, performance.now() - startedAt);
  } catch {
    window.error();
  }
}

function withRedirects(result: LoadResult, redirects: number): UndiciOutcome {
  return { ...result, redirectsPerResponse: result.responses === 0 ? 0 : Math.round((redirects / result.responses) * 1000) / 1000 };
}
