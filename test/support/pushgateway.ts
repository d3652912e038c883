/**
 * Real pushgateways for integration tests, one per call, each on a free
 * port with its own persistence file in a fresh temp dir. The admin API
 * (`PUT /api/v1/admin/wipe`) is always enabled.
 *
 * Callers own what they start and MUST stop it even when the test fails:
 *
 *   const pg = await startPushgateway();
 *   t.after(() => pg.stop());          // or after(() => ...) at suite level
 *
 * stop() is idempotent and also removes the temp dir.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/local/free-port.js';
import { findPushgatewayBinary } from '../../src/local/pushgateway-binary.js';
import { PushgatewayProcess, PushgatewayStartError } from '../../src/local/pushgateway-process.js';

export interface TestPushgateway {
  /** "127.0.0.1:PORT"; the same after restart(). */
  readonly target: string;
  /** "http://127.0.0.1:PORT". */
  readonly url: string;
  /** PID of the current child; changes on restart(). */
  readonly pid: number;
  readonly dataFile: string;
  /** SIGTERM (pushgateway persists its data), wait until gone, remove the temp dir. */
  stop(): Promise<void>;
  /**
   * Stops the child with SIGTERM (so it writes dataFile) and starts a new
   * one on the same port and file. Resolves with this same handle.
   */
  restart(): Promise<TestPushgateway>;
}

export interface StartPushgatewayOptions {
  readonly extraArgs?: readonly string[];
  /** For a pushgateway with its own --web.config.file: how to tell it is up. */
  readonly healthProbe?: (target: string, signal: AbortSignal) => Promise<boolean>;
}

export async function startPushgateway(opts: StartPushgatewayOptions = {}): Promise<TestPushgateway> {
  const binary = findPushgatewayBinary();
  const dir = await mkdtemp(join(tmpdir(), 'shardgate-pg-'));
  const dataFile = join(dir, 'pushgateway.data');
  const extraArgs = ['--web.enable-admin-api', ...(opts.extraArgs ?? [])];
  let port = 0;
  const spawnOne = (): PushgatewayProcess =>
    new PushgatewayProcess({ binary, port, persistenceFile: dataFile, extraArgs, ...(opts.healthProbe ? { healthProbe: opts.healthProbe } : {}) });

  let proc: PushgatewayProcess;
  let stopped: Promise<void> | undefined;
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    proc = spawnOne();
    try {
      await proc.start();
      break;
    } catch (err) {
      // Parallel callers can be handed the same free port; pick another.
      if (attempt < 5 && lostPortRace(err)) continue;
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  const handle: TestPushgateway = {
    target: proc.target,
    url: `http://${proc.target}`,
    get pid(): number {
      // start() resolved, so the child was spawned and has a pid.
      return proc.pid ?? assert.fail(`pushgateway ${proc.target} has no pid`);
    },
    dataFile,
    stop(): Promise<void> {
      stopped ??= (async () => {
        await proc.stop();
        await rm(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
    async restart(): Promise<TestPushgateway> {
      if (stopped !== undefined) throw new Error(`pushgateway ${handle.target} was stopped; it cannot restart`);
      await proc.stop();
      proc = spawnOne();
      await proc.start();
      return handle;
    },
  };
  return handle;
}

function lostPortRace(err: unknown): boolean {
  if (!(err instanceof PushgatewayStartError)) return false;
  return err.reason === 'port-in-use' || err.stderrTail.some((line) => line.includes('address already in use'));
}

/** `n` pushgateways started in parallel; if any fails, the others are stopped. */
export async function startPushgateways(n: number, opts: StartPushgatewayOptions = {}): Promise<TestPushgateway[]> {
  const results = await Promise.allSettled(Array.from({ length: n }, () => startPushgateway(opts)));
  const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure !== undefined) {
    await Promise.all(started.map((pg) => pg.stop()));
    throw failure.reason;
  }
  return started;
}
