/**
 * A real single-member etcd (Debian's etcd-server) on loopback for tests:
 * free client and peer ports, its own data dir in a temp dir, killed by
 * PID. `pause()`/`resume()` send SIGSTOP/SIGCONT (a store that stops
 * answering). Callers MUST stop it in t.after / after.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { freePort } from '../../src/local/free-port.js';
import { waitFor } from './wait-for.js';

export interface TestEtcd {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  readonly pid: number;
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

export function etcdBinary(): string {
  for (const p of ['/usr/bin/etcd', '/usr/local/bin/etcd']) if (existsSync(p)) return p;
  throw new Error('etcd is not installed (Debian: apt-get install etcd-server; scripts/setup.sh test installs it)');
}

export async function startEtcd(): Promise<TestEtcd> {
  const dir = await mkdtemp(join(tmpdir(), 'shardgate-etcd-'));
  const [client, peer] = [await freePort(), await freePort()];
  const endpoint = `http://127.0.0.1:${client}`;
  const child: ChildProcess = spawn(
    etcdBinary(),
    [
      `--data-dir=${join(dir, 'data')}`,
      `--listen-client-urls=${endpoint}`,
      `--advertise-client-urls=${endpoint}`,
      `--listen-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-cluster=default=http://127.0.0.1:${peer}`,
      '--log-level=error',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`etcd exited: ${stderr.slice(-500)}`);
        const res = await fetch(`${endpoint}/health`).catch(() => undefined);
        return res?.status === 200;
      },
      { timeoutMs: 20_000, what: 'etcd to answer /health' },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    endpoint,
    pid: child.pid ?? 0,
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    stop,
  };
}
