/**
 * Runs the real shardgate CLI (dist/src/main.js) as a child process for
 * integration tests: writes its config to a temp dir, picks a free port,
 * waits until it answers, and stops it by PID. Its stderr (logfmt) is kept
 * so tests can assert on log lines.
 *
 * Callers MUST stop it in t.after / after, even on failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/local/free-port.js';
import { waitFor } from './wait-for.js';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

export interface Shardgate {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly configFile: string;
  readonly dir: string;
  /** Everything written to stderr so far. */
  logs(): string;
  /** Rewrites the config file (for reload tests). */
  writeConfig(yaml: string): Promise<void>;
  /** Resolves with the exit code once the process has exited. */
  readonly exited: Promise<number | null>;
  signal(sig: NodeJS.Signals): void;
  stop(): Promise<void>;
}

export interface StartShardgateOptions {
  readonly config?: string;
  /** Contents of a --web.config.file, written beside the config (relative paths start there). */
  readonly webConfig?: string;
  /** Serves https (the web config has tls_server_config): the url says so. */
  readonly https?: boolean;
  /** How to tell it answers (default: fetch of the url gives 200), e.g. with TLS client certs and credentials. */
  readonly probe?: (url: string) => Promise<boolean>;
  readonly args?: readonly string[];
  /** Wait for /-/ready (at least one healthy shard) instead of /-/healthy. */
  readonly waitReady?: boolean;
  /** Listen on this port (a free one by default): for configs that must name it, like replicas.advertise_url. */
  readonly port?: number;
}

export async function startShardgate(opts: StartShardgateOptions = {}): Promise<Shardgate> {
  const dir = await mkdtemp(join(tmpdir(), 'shardgate-'));
  const configFile = join(dir, 'shardgate.yml');
  await writeFile(configFile, opts.config ?? '');
  const webArgs: string[] = [];
  if (opts.webConfig !== undefined) {
    await writeFile(join(dir, 'web.yml'), opts.webConfig);
    webArgs.push(`--web.config.file=${join(dir, 'web.yml')}`);
  }
  const port = opts.port ?? (await freePort());
  const child: ChildProcess = spawn(
    process.execPath,
    [MAIN, ...(opts.args ?? []), ...webArgs, `--config.file=${configFile}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=debug'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let done = false;
  void exited.then(() => (done = true));
  const url = `${opts.https ? 'https' : 'http'}://127.0.0.1:${port}`;
  const handle: Shardgate = {
    url,
    port,
    pid: child.pid ?? -1,
    configFile,
    dir,
    logs: () => stderr,
    writeConfig: (yaml) => writeFile(configFile, yaml),
    exited,
    signal: (sig) => void child.kill(sig),
    async stop() {
      if (!done) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitFor(
      async () => {
        if (done) throw new Error(`shardgate exited early:\n${stderr}`);
        const probeUrl = `${url}${opts.waitReady ? '/-/ready' : '/-/healthy'}`;
        if (opts.probe) return opts.probe(probeUrl).catch(() => false);
        const res = await fetch(probeUrl).catch(() => undefined);
        return res?.status === 200;
      },
      { timeoutMs: 20_000, what: 'shardgate to answer' },
    );
  } catch (err) {
    await handle.stop();
    throw err;
  }
  return handle;
}
