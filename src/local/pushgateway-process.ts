/**
 * One pushgateway child process: spawn it, wait until it is healthy, stop it.
 *
 * Contracts:
 * - One instance runs at most one child; `start()` may be called once. To
 *   run the same shard again, build a new instance with the same options.
 * - `start()` resolves only once `GET /-/healthy` answered 200 while the
 *   child was alive. When it rejects (PushgatewayStartError), no child of
 *   this instance is left running.
 * - `exited` settles (never rejects) once the child is gone, whether it
 *   crashed, was stopped or failed to spawn. It never settles if `start()`
 *   was never called.
 * - Children do not outlive this process: their stderr is a pipe we read
 *   (a Go program dies on its next write once we are gone), and a single
 *   process 'exit' hook sends SIGTERM to every child still running, which
 *   lets pushgateway write its persistence file before it exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { type Logger } from '../telemetry/logger.js';
import { isPortFree } from './free-port.js';

export interface PushgatewayProcessOptions {
  /** Path of the executable, see findPushgatewayBinary. */
  readonly binary: string;
  readonly host?: string;
  readonly port: number;
  /** Always set: Debian's default path is shared and usually not writable. */
  readonly persistenceFile: string;
  /** Further flags; must not set --web.listen-address or --persistence.file. */
  readonly extraArgs?: readonly string[];
  /**
   * Whether the child answers its health check. Default: `GET http://host:port/-/healthy`
   * answers 200; a pushgateway run with its own --web.config.file (TLS, basic
   * auth) needs a probe that speaks it.
   */
  readonly healthProbe?: (target: string, signal: AbortSignal) => Promise<boolean>;
  /** How long `start()` waits for /-/healthy. Default 15 s. */
  readonly startTimeoutMs?: number;
  /** Used for the rare events only this class sees (SIGKILL escalation). */
  readonly logger?: Logger;
}

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export type StartFailure = 'port-in-use' | 'spawn-failed' | 'exited' | 'timeout' | 'stopped';

export class PushgatewayStartError extends Error {
  readonly code = 'SHARDGATE_PUSHGATEWAY_START_FAILED';

  constructor(
    readonly target: string,
    readonly reason: StartFailure,
    detail: string,
    readonly stderrTail: readonly string[],
  ) {
    const tail = stderrTail.length > 0 ? `; last stderr lines:\n  ${stderrTail.join('\n  ')}` : '';
    super(`pushgateway on ${target} did not start: ${detail}${tail}`);
    this.name = 'PushgatewayStartError';
  }
}

const HEALTH_POLL_MS = 50;
const STDERR_LINES = 20;
const DEFAULT_START_TIMEOUT_MS = 15_000;

export class PushgatewayProcess {
  readonly target: string;
  readonly exited: Promise<ProcessExit>;
  readonly #opts: PushgatewayProcessOptions;
  readonly #host: string;
  readonly #stderr = new LineRing(STDERR_LINES);
  #resolveExited: (exit: ProcessExit) => void = () => {};
  #child: ChildProcess | undefined;
  #startCalled = false;
  #stopRequested = false;
  #exit: ProcessExit | undefined;

  constructor(opts: PushgatewayProcessOptions) {
    checkExtraArgs(opts.extraArgs ?? []);
    if (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65535) {
      throw new RangeError(`port must be an integer in 1..65535, got ${opts.port}`);
    }
    this.#opts = Object.freeze({ ...opts });
    this.#host = opts.host ?? '127.0.0.1';
    this.target = formatTarget(this.#host, opts.port);
    this.exited = new Promise((resolve) => {
      this.#resolveExited = resolve;
    });
  }

  /** The child's PID once spawned (kept after it exits); undefined before. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** True from a successful spawn until the child is gone. */
  get running(): boolean {
    return this.#child?.pid !== undefined && this.#exit === undefined;
  }

  /** The child's last stderr lines, oldest first. */
  stderrTail(): readonly string[] {
    return this.#stderr.lines();
  }

  async start(): Promise<void> {
    if (this.#startCalled) throw new Error(`pushgateway on ${this.target} was already started`);
    this.#startCalled = true;
    // Without this check the health poll could be answered by whoever holds
    // the port, before our child notices and exits.
    if (!(await isPortFree(this.#opts.port, this.#host))) {
      throw new PushgatewayStartError(this.target, 'port-in-use', `${this.target} is already in use by another process`, []);
    }
    if (this.#stopRequested) {
      throw new PushgatewayStartError(this.target, 'stopped', 'stop() was called before it was spawned', []);
    }
    const child = this.#spawn();
    const timeoutMs = this.#opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    const exitedEarly = this.exited.then(() => 'exited' as const);
    while (true) {
      const outcome = await Promise.race([this.#healthy(deadline), exitedEarly]);
      // A 200 from a child that died meanwhile came from someone else.
      if (outcome === true && this.#exit === undefined) return;
      if (outcome === 'exited' || this.#exit !== undefined) {
        const exit = await this.exited;
        if (child.pid === undefined) {
          throw new PushgatewayStartError(this.target, 'spawn-failed', `could not run ${this.#opts.binary}`, this.stderrTail());
        }
        throw new PushgatewayStartError(this.target, 'exited', `it exited early (${describeExit(exit)})`, this.stderrTail());
      }
      if (Date.now() >= deadline) {
        await this.stop('SIGKILL', 0);
        throw new PushgatewayStartError(
          this.target,
          'timeout',
          `GET /-/healthy did not answer 200 within ${timeoutMs} ms`,
          this.stderrTail(),
        );
      }
      await Promise.race([delay(HEALTH_POLL_MS), exitedEarly]);
    }
  }

  /**
   * Sends `signal` to the child's PID, then SIGKILL if it is still there
   * after `graceMs`. Resolves once the child has been reaped. Safe to call
   * repeatedly, concurrently and after the child has exited. Called before
   * the child was spawned, it resolves at once and a pending start() then
   * rejects (reason 'stopped') instead of spawning.
   */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<ProcessExit> {
    this.#stopRequested = true;
    const pid = this.#child?.pid;
    if (pid === undefined || this.#exit !== undefined) return this.#exit ?? { code: null, signal: null };
    sendSignal(pid, signal);
    const escalate = setTimeout(() => {
      if (this.#exit !== undefined) return;
      this.#opts.logger?.warn({ pid, target: this.target, graceMs }, 'pushgateway did not stop in time, sending SIGKILL');
      sendSignal(pid, 'SIGKILL');
    }, graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(escalate);
    }
  }

  #spawn(): ChildProcess {
    const args = [
      `--web.listen-address=${this.target}`,
      `--persistence.file=${this.#opts.persistenceFile}`,
      ...(this.#opts.extraArgs ?? []),
    ];
    const child = spawn(this.#opts.binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#child = child;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => this.#stderr.push(chunk));
    if (child.pid !== undefined) liveChildren.add(child.pid);
    const settle = (exit: ProcessExit): void => {
      if (this.#exit !== undefined) return;
      this.#exit = exit;
      if (child.pid !== undefined) liveChildren.delete(child.pid);
      this.#resolveExited(exit);
    };
    // 'close' comes after 'exit' once stderr is drained, so the tail is complete.
    child.once('close', (code, sig) => settle({ code, signal: sig }));
    child.once('error', (err) => {
      // Without a pid the spawn itself failed and no 'close' will follow.
      if (child.pid === undefined) {
        this.#stderr.push(`${err.message}\n`);
        settle({ code: null, signal: null });
      }
    });
    return child;
  }

  /** True once /-/healthy answers 200; false on any error or other status. */
  async #healthy(deadline: number): Promise<boolean> {
    const budget = Math.max(1, Math.min(1000, deadline - Date.now()));
    try {
      if (this.#opts.healthProbe) return await this.#opts.healthProbe(this.target, AbortSignal.timeout(budget));
      const res = await fetch(`http://${this.target}/-/healthy`, { signal: AbortSignal.timeout(budget) });
      await res.body?.cancel();
      return res.status === 200;
    } catch {
      return false;
    }
  }
}

/** Throws TypeError if `args` set a flag PushgatewayProcess sets itself. */
export function checkExtraArgs(args: readonly string[]): void {
  for (const arg of args) {
    if (/^--(web\.listen-address|persistence\.file)(=|$)/.test(arg)) {
      throw new TypeError(`extraArgs must not contain ${arg}: PushgatewayProcess sets it from its options`);
    }
  }
}

/** "host:port", with IPv6 hosts in brackets, as pushgateway's flag and URLs expect. */
export function formatTarget(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Keeps the last `max` complete lines of a text stream (and a bounded partial one). */
class LineRing {
  readonly #max: number;
  readonly #lines: string[] = [];
  #partial = '';

  constructor(max: number) {
    this.#max = max;
  }

  push(chunk: string): void {
    const parts = (this.#partial + chunk).split('\n');
    this.#partial = (parts.pop() ?? '').slice(-4096);
    for (const line of parts) {
      if (line.trim() === '') continue;
      this.#lines.push(line);
      if (this.#lines.length > this.#max) this.#lines.shift();
    }
  }

  lines(): readonly string[] {
    const all = this.#partial.trim() === '' ? this.#lines : [...this.#lines, this.#partial];
    return all.slice(-this.#max);
  }
}

/**
 * PIDs of children still running, for the exit hook below. This is the one
 * piece of module state here: the hook is per process, not per instance,
 * so a large fleet does not stack up 'exit' listeners.
 */
const liveChildren = new Set<number>();
process.once('exit', () => {
  for (const pid of liveChildren) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // Nothing more can be done while exiting.
    }
  }
});

function sendSignal(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (err) {
    // ESRCH: already gone, and 'close' is on its way.
    if (!isErrno(err, 'ESRCH')) throw err;
  }
}

function isErrno(err: unknown, code: string): boolean {
  return err instanceof Error && 'code' in err && err.code === code;
}

function describeExit(exit: ProcessExit): string {
  return exit.signal !== null ? `signal ${exit.signal}` : `code ${exit.code}`;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
