/**
 * A local fleet: N pushgateway children on this machine, supervised.
 *
 * Contracts:
 * - Shard i always runs on the same port and persists to
 *   `${dataDir}/shard-${i}.data`, so a restarted child comes back at the
 *   same target with the data it last wrote. `targets[i]` never changes.
 * - `start()` either resolves with every shard healthy, or rejects with no
 *   child left running. It runs once per fleet.
 * - After `start()`, a child that exits on its own is started again after a
 *   backoff (doubling from initialMs up to maxMs; back to initialMs once a
 *   child stayed up resetAfterMs). A failed restart is retried the same way.
 * - `stop()` ends supervision (pending backoff timers are cleared), sends
 *   SIGTERM to every child and SIGKILL after the grace period, and resolves
 *   once all of them are gone. It is idempotent and safe during start().
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Logger } from '../telemetry/logger.js';
import { fleetPorts } from './fleet-ports.js';
import { checkExtraArgs, formatTarget, PushgatewayProcess, type ProcessExit } from './pushgateway-process.js';

export interface FleetEvent {
  /** 'exited' is only emitted for unexpected exits, not for stop(). */
  readonly type: 'started' | 'exited' | 'restarted';
  readonly shard: number;
  readonly target: string;
  readonly pid?: number;
  readonly code?: number | null;
  readonly signal?: string | null;
}

export interface RestartBackoff {
  readonly initialMs: number;
  readonly maxMs: number;
  /** A child that stayed up this long resets the backoff. Default 60 s. */
  readonly resetAfterMs?: number;
}

export interface LocalFleetOptions {
  readonly shards: number;
  readonly dataDir: string;
  readonly binary: string;
  readonly host?: string;
  /** One port per shard; default: free ports picked at start(). */
  readonly ports?: readonly number[];
  readonly extraArgs?: readonly string[];
  readonly logger: Logger;
  readonly restartBackoff?: RestartBackoff;
  /** Grace between SIGTERM and SIGKILL on stop(). Default 5 s. */
  readonly stopGraceMs?: number;
  /** How long each child may take to become healthy. Default 15 s. */
  readonly startTimeoutMs?: number;
  /** Called synchronously; exceptions are logged and otherwise ignored. */
  readonly onEvent?: (e: FleetEvent) => void;
}

const DEFAULT_BACKOFF: Required<RestartBackoff> = { initialMs: 500, maxMs: 30_000, resetAfterMs: 60_000 };

/** Mutable supervision state of one shard; never leaves this module. */
interface Slot {
  readonly index: number;
  readonly port: number;
  readonly target: string;
  readonly dataFile: string;
  proc: PushgatewayProcess | undefined;
  restarts: number;
  backoffMs: number;
  upSince: number;
  timer: NodeJS.Timeout | undefined;
  /** An in-flight launch (initial or restart) that stop() must wait for. */
  pending: Promise<unknown> | undefined;
}

export class LocalFleet {
  readonly #opts: LocalFleetOptions;
  readonly #host: string;
  readonly #backoff: Required<RestartBackoff>;
  readonly #log: Logger;
  #slots: readonly Slot[] = [];
  #targets: readonly string[] = Object.freeze([]);
  #started = false;
  #stopping = false;
  #stopped: Promise<void> | undefined;

  constructor(opts: LocalFleetOptions) {
    if (!Number.isInteger(opts.shards) || opts.shards < 1) {
      throw new RangeError(`shards must be a positive integer, got ${opts.shards}`);
    }
    if (opts.ports !== undefined) {
      if (opts.ports.length !== opts.shards) {
        throw new RangeError(`ports lists ${opts.ports.length} ports for ${opts.shards} shards`);
      }
      if (new Set(opts.ports).size !== opts.ports.length) throw new RangeError('ports must not repeat');
    }
    checkExtraArgs(opts.extraArgs ?? []);
    const backoff = { ...DEFAULT_BACKOFF, ...opts.restartBackoff };
    if (!(backoff.initialMs > 0) || !(backoff.maxMs >= backoff.initialMs) || !(backoff.resetAfterMs >= 0)) {
      throw new RangeError('restartBackoff needs 0 < initialMs <= maxMs and resetAfterMs >= 0');
    }
    this.#opts = Object.freeze({ ...opts, ports: opts.ports && Object.freeze([...opts.ports]) });
    this.#host = opts.host ?? '127.0.0.1';
    this.#backoff = Object.freeze(backoff);
    this.#log = opts.logger;
  }

  /** "host:port" of each shard, by shard index; empty before start(). */
  get targets(): readonly string[] {
    return this.#targets;
  }

  /** PIDs of the children running now, in shard order (for tests). */
  pids(): number[] {
    return this.#slots.flatMap((s) => (s.proc?.running === true && s.proc.pid !== undefined ? [s.proc.pid] : []));
  }

  /** PID of shard i's running child, or undefined while it is down. */
  pid(shard: number): number | undefined {
    const proc = this.#slot(shard)?.proc;
    return proc?.running === true ? proc.pid : undefined;
  }

  /** How many times shard i was successfully restarted after an exit. */
  restartCount(shard: number): number {
    return this.#slot(shard)?.restarts ?? 0;
  }

  async start(): Promise<string[]> {
    if (this.#started) throw new Error('LocalFleet.start() may only be called once');
    this.#started = true;
    await mkdir(this.#opts.dataDir, { recursive: true });
    const ports = this.#opts.ports ?? (await fleetPorts(this.#opts.dataDir, this.#opts.shards, this.#host));
    // From here on everything stop() must see (slots, procs, pending launches) is set synchronously.
    if (this.#stopping) throw new Error('LocalFleet was stopped while starting');
    this.#slots = ports.map((port, index) => ({
      index,
      port,
      target: formatTarget(this.#host, port),
      dataFile: join(this.#opts.dataDir, `shard-${index}.data`),
      proc: undefined,
      restarts: 0,
      backoffMs: this.#backoff.initialMs,
      upSince: 0,
      timer: undefined,
      pending: undefined,
    }));
    this.#targets = Object.freeze(this.#slots.map((s) => s.target));

    const results = await Promise.allSettled(this.#slots.map((slot) => this.#track(slot, this.#launch(slot, 'started'))));
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure !== undefined || this.#stopping) {
      const stoppedMeanwhile = this.#stopping;
      await this.stop();
      // A stop() during start() makes launches fail; that is not their fault.
      throw stoppedMeanwhile ? new Error('LocalFleet was stopped while starting') : failure?.reason;
    }
    this.#log.info({ shards: this.#slots.length, targets: this.#targets.join(',') }, 'local fleet started');
    return [...this.#targets];
  }

  stop(): Promise<void> {
    this.#stopped ??= this.#stopAll();
    return this.#stopped;
  }

  async #stopAll(): Promise<void> {
    this.#stopping = true;
    const grace = this.#opts.stopGraceMs ?? 5000;
    await Promise.all(
      this.#slots.map(async (slot) => {
        clearTimeout(slot.timer);
        slot.timer = undefined;
        await slot.proc?.stop('SIGTERM', grace);
        // A launch still in flight stops its own child once it sees #stopping.
        await slot.pending?.catch(() => undefined);
      }),
    );
    this.#log.info({ shards: this.#slots.length }, 'local fleet stopped');
  }

  /**
   * Starts a new child for `slot` and begins watching it. Resolves false
   * (with the child stopped again) if stop() was called meanwhile.
   */
  async #launch(slot: Slot, type: 'started' | 'restarted'): Promise<boolean> {
    const proc = new PushgatewayProcess({
      binary: this.#opts.binary,
      host: this.#host,
      port: slot.port,
      persistenceFile: slot.dataFile,
      extraArgs: this.#opts.extraArgs ?? [],
      startTimeoutMs: this.#opts.startTimeoutMs,
      logger: this.#log,
    });
    slot.proc = proc;
    await proc.start();
    if (this.#stopping) {
      await proc.stop('SIGTERM', this.#opts.stopGraceMs ?? 5000);
      return false;
    }
    slot.upSince = Date.now();
    if (type === 'restarted') slot.restarts += 1;
    const fields = { shard: slot.index, pid: proc.pid, target: slot.target, restarts: slot.restarts };
    this.#log.info(fields, type === 'started' ? 'pushgateway started' : 'pushgateway restarted');
    this.#emit({ type, shard: slot.index, target: slot.target, pid: proc.pid });
    void proc.exited.then((exit) => this.#onExit(slot, proc, exit));
    return true;
  }

  #onExit(slot: Slot, proc: PushgatewayProcess, exit: ProcessExit): void {
    if (this.#stopping || slot.proc !== proc) return;
    const uptimeMs = Date.now() - slot.upSince;
    this.#log.warn(
      { shard: slot.index, pid: proc.pid, target: slot.target, code: exit.code, signal: exit.signal, uptimeMs },
      'pushgateway exited unexpectedly',
    );
    this.#emit({ type: 'exited', shard: slot.index, target: slot.target, pid: proc.pid, code: exit.code, signal: exit.signal });
    if (uptimeMs >= this.#backoff.resetAfterMs) slot.backoffMs = this.#backoff.initialMs;
    this.#scheduleRestart(slot);
  }

  #scheduleRestart(slot: Slot): void {
    const waitMs = slot.backoffMs;
    slot.backoffMs = Math.min(waitMs * 2, this.#backoff.maxMs);
    this.#log.info({ shard: slot.index, target: slot.target, backoffMs: waitMs }, 'pushgateway restart scheduled');
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      if (this.#stopping) return;
      void this.#track(slot, this.#launch(slot, 'restarted')).catch((err: unknown) => {
        if (this.#stopping) return;
        this.#log.error({ shard: slot.index, target: slot.target, err }, 'pushgateway restart failed');
        this.#scheduleRestart(slot);
      });
    }, waitMs);
  }

  /** Records `launch` as the slot's in-flight work until it settles. */
  #track<T>(slot: Slot, launch: Promise<T>): Promise<T> {
    const pending = launch.finally(() => {
      if (slot.pending === pending) slot.pending = undefined;
    });
    slot.pending = pending;
    return pending;
  }

  #emit(event: FleetEvent): void {
    try {
      this.#opts.onEvent?.(event);
    } catch (err) {
      this.#log.error({ err, event: event.type, shard: event.shard }, 'LocalFleet onEvent listener threw');
    }
  }

  #slot(shard: number): Slot | undefined {
    if (!Number.isInteger(shard) || shard < 0 || shard >= this.#opts.shards) {
      throw new RangeError(`shard must be in 0..${this.#opts.shards - 1}, got ${shard}`);
    }
    return this.#slots[shard];
  }
}

/** `n` distinct free ports. Each probe closes its socket, so repeats are possible and skipped. */
