/**
 * Every process a benchmark needs (pushgateways, nginx, shardgate), started
 * on loopback at free ports and stopped by PID.
 *
 * Contract: a ProcessSet owns what it started until that is stopped.
 * `stopAll()` stops everything still running (also after a failed start)
 * and is safe to call repeatedly; `signalAllNow()` is its synchronous last
 * resort for process 'exit'. PIDs seen as children of shardgate (its local
 * fleet) and of nginx (its worker) are remembered, so they are stopped even
 * if their parent dies first.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../src/local/free-port.js';
import { PushgatewayProcess, PushgatewayStartError } from '../src/local/pushgateway-process.js';
import { childPids, commandLine, isAlive } from './proc-stats.js';
import { delay, waitUntil } from './progress.js';
import { nginxConf } from './nginx-conf.js';

const SHARDGATE_MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));
const STDERR_TAIL = 30;

export interface Running {
  readonly name: string;
  /** The main PID (shardgate's node process, nginx's master). */
  readonly pid: number;
  /** Every PID that belongs to it and is still alive: main, workers, local fleet. */
  pids(): number[];
  stop(): Promise<void>;
}

export interface BenchPushgateway extends Running {
  readonly target: string;
  readonly url: string;
}

export interface BenchShardgate extends Running {
  readonly url: string;
  stderrTail(): string;
  /** PIDs of the pushgateways `shardgate local` runs (empty in config mode). */
  fleetPids(): number[];
}

export interface ShardgateOptions {
  readonly name: string;
  readonly args: readonly string[];
  /** Wait until /api/v1/shards lists this many shards, all up and in the ring. */
  readonly expectShards: number;
  /** taskset CPU list, e.g. "1". */
  readonly cpus?: string;
  /** Extra node flags, e.g. --cpu-prof. */
  readonly nodeArgs?: readonly string[];
}

export class ProcessSet {
  readonly #running = new Set<Running>();
  /** Every PID ever started or seen as a child, for the exit hook. */
  readonly #known = new Map<number, string>();

  /** `workDir` is shardgate's cwd, so a stray ./shardgate.yml is never picked up. */
  constructor(
    readonly pushgatewayBinary: string,
    readonly workDir: string,
  ) {}

  async pushgateway(name: string, persistenceFile: string, extraArgs: readonly string[] = [], port?: number): Promise<BenchPushgateway> {
    for (let attempt = 1; ; attempt++) {
      const proc = new PushgatewayProcess({ binary: this.pushgatewayBinary, port: port ?? (await freePort()), persistenceFile, extraArgs });
      try {
        await proc.start();
      } catch (err) {
        // Another process may take a free port between probe and bind: retry on a new one.
        if (err instanceof PushgatewayStartError && err.reason === 'port-in-use' && port === undefined && attempt < 5) continue;
        throw err;
      }
      const pid = proc.pid ?? -1;
      this.#known.set(pid, 'pushgateway');
      const handle: BenchPushgateway = {
        name,
        pid,
        target: proc.target,
        url: `http://${proc.target}`,
        pids: () => (proc.running ? [pid] : []),
        stop: async () => {
          await proc.stop('SIGTERM', 10_000);
          this.#running.delete(handle);
        },
      };
      this.#running.add(handle);
      return handle;
    }
  }

  async shardgate(opts: ShardgateOptions): Promise<BenchShardgate> {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const nodeArgv = [...(opts.nodeArgs ?? []), SHARDGATE_MAIN, ...opts.args, `--web.listen-address=127.0.0.1:${port}`];
    const spawnOpts = { ...STDIO, cwd: this.workDir };
    const child = opts.cpus === undefined ? spawn(process.execPath, nodeArgv, spawnOpts) : spawn('taskset', ['-c', opts.cpus, process.execPath, ...nodeArgv], spawnOpts);
    const proc = this.#track(opts.name, child);
    const seen = new Set<number>();
    const children = (): number[] => {
      for (const c of childPids(proc.pid)) {
        seen.add(c);
        this.#known.set(c, 'pushgateway');
      }
      return [...seen].filter((c) => isAlive(c) && (commandLine(c) ?? '').includes('pushgateway'));
    };
    const handle: BenchShardgate = {
      name: opts.name,
      pid: proc.pid,
      url,
      stderrTail: proc.stderrTail,
      fleetPids: children,
      pids: () => [...(proc.alive() ? [proc.pid] : []), ...children()],
      stop: async () => {
        children();
        await proc.stop('SIGTERM', 20_000);
        await stopStragglers(children());
        this.#running.delete(handle);
      },
    };
    this.#running.add(handle);
    try {
      await waitUntil(
        `${opts.name} to report ${opts.expectShards} healthy shards`,
        async () => {
          if (!proc.alive()) throw new Error(`${opts.name} exited during start-up:\n${proc.stderrTail()}`);
          return (await healthyShards(url)) === opts.expectShards;
        },
        60_000,
      );
    } catch (err) {
      await handle.stop();
      throw err;
    }
    children();
    return handle;
  }

  /** nginx with one worker, `hash $request_uri consistent` over `upstreams`. */
  async nginx(name: string, dir: string, upstreams: readonly string[], cpus?: string): Promise<BenchPushgateway> {
    await mkdir(dir, { recursive: true });
    const port = await freePort();
    const conf = join(dir, 'nginx.conf');
    await writeFile(conf, nginxConf(dir, port, upstreams));
    const argv = ['-c', conf, '-p', `${dir}/`];
    const child = cpus === undefined ? spawn('nginx', argv, STDIO) : spawn('taskset', ['-c', cpus, 'nginx', ...argv], STDIO);
    const proc = this.#track(name, child);
    const workers = new Set<number>();
    const handle: BenchPushgateway = {
      name,
      pid: proc.pid,
      target: `127.0.0.1:${port}`,
      url: `http://127.0.0.1:${port}`,
      pids: () => [proc.pid, ...workers].filter(isAlive),
      stop: async () => {
        await proc.stop('SIGTERM', 10_000);
        await stopStragglers([...workers]);
        this.#running.delete(handle);
      },
    };
    this.#running.add(handle);
    try {
      await waitUntil(`${name} to proxy /-/healthy`, async () => {
        if (!proc.alive()) throw new Error(`${name} exited during start-up:\n${proc.stderrTail()}`);
        return (await statusOf(`${handle.url}/-/healthy`)) === 200;
      });
    } catch (err) {
      await handle.stop();
      throw err;
    }
    for (const w of childPids(proc.pid)) {
      workers.add(w);
      this.#known.set(w, 'nginx');
    }
    return handle;
  }

  async stopAll(): Promise<void> {
    await Promise.allSettled([...this.#running].map((r) => r.stop()));
  }

  /** Synchronous: SIGTERM to every PID still alive. For process 'exit' only. */
  signalAllNow(): void {
    for (const r of this.#running) for (const pid of r.pids()) signal(pid, 'SIGTERM');
    for (const [pid, kind] of this.#known) {
      if (isAlive(pid) && (commandLine(pid) ?? '').includes(kind)) signal(pid, 'SIGTERM');
    }
  }

  #track(name: string, child: ChildProcess): TrackedChild {
    const pid = child.pid;
    if (pid === undefined) throw new Error(`could not spawn ${name}`);
    this.#known.set(pid, name.startsWith('nginx') ? 'nginx' : 'main.js');
    return trackChild(child, pid);
  }
}

const STDIO: SpawnOptions = { stdio: ['ignore', 'ignore', 'pipe'] };

interface TrackedChild {
  readonly pid: number;
  alive(): boolean;
  stderrTail(): string;
  stop(sig: NodeJS.Signals, graceMs: number): Promise<void>;
}

function trackChild(child: ChildProcess, pid: number): TrackedChild {
  const lines: string[] = [];
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    lines.push(...chunk.split('\n').filter((l) => l.trim() !== ''));
    if (lines.length > STDERR_TAIL) lines.splice(0, lines.length - STDERR_TAIL);
  });
  let exited = false;
  const gone = new Promise<void>((resolve) => child.once('close', () => resolve()));
  void gone.then(() => (exited = true));
  return {
    pid,
    alive: () => !exited,
    stderrTail: () => lines.join('\n'),
    async stop(sig, graceMs) {
      if (exited) return;
      signal(pid, sig);
      const timer = setTimeout(() => signal(pid, 'SIGKILL'), graceMs);
      await gone;
      clearTimeout(timer);
    },
  };
}

/** SIGTERM, then SIGKILL after 5 s, to PIDs that outlived their parent. */
async function stopStragglers(pids: readonly number[]): Promise<void> {
  const left = pids.filter(isAlive);
  if (left.length === 0) return;
  for (const pid of left) signal(pid, 'SIGTERM');
  const deadline = Date.now() + 5000;
  while (left.some(isAlive) && Date.now() < deadline) await delay(50);
  for (const pid of left) if (isAlive(pid)) signal(pid, 'SIGKILL');
}

/** Sets the CPU affinity of every thread of `pid` (threads started later inherit it). */
export function pinProcess(pid: number, cpus: string): void {
  const r = spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`taskset could not pin PID ${pid} to CPUs ${cpus} (exit ${r.status ?? 'signal'})`);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

/** How many shards /api/v1/shards lists as up and in the ring (0 on any error). */
export async function healthyShards(url: string): Promise<number> {
  const shards = await shardTargets(url, true);
  return shards.length;
}

/** Targets from shardgate's /api/v1/shards; only healthy in-ring ones if `healthyOnly`. */
export async function shardTargets(url: string, healthyOnly: boolean): Promise<string[]> {
  try {
    const res = await fetch(`${url}/api/v1/shards`, { signal: AbortSignal.timeout(2000) });
    if (res.status !== 200) return [];
    const body: unknown = await res.json();
    if (!isObject(body) || !Array.isArray(body['data'])) return [];
    const out: string[] = [];
    for (const s of body['data'] as unknown[]) {
      if (!isObject(s) || typeof s['target'] !== 'string') continue;
      if (!healthyOnly || (s['health'] === 'up' && s['in_ring'] === true)) out.push(s['target']);
    }
    return out;
  } catch {
    return [];
  }
}

async function statusOf(url: string): Promise<number> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.body?.cancel();
    return res.status;
  } catch {
    return 0;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}
