/**
 * A real Prometheus (Debian's `prometheus` package) for end-to-end tests:
 * own config and TSDB in a temp dir, a free port, stopped by PID.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/local/free-port.js';
import { waitFor } from './wait-for.js';

export interface TestPrometheus {
  readonly url: string;
  /** Instant query; returns the result vector. */
  query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  /** host:port of every active scrape target. */
  activeTargets(): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startPrometheus(configYaml: string): Promise<TestPrometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'shardgate-prom-'));
  await writeFile(join(dir, 'prometheus.yml'), configYaml);
  const port = await freePort();
  const child = spawn(
    'prometheus',
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
  let exited = false;
  const gone = new Promise<void>((r) => child.once('exit', () => ((exited = true), r())));
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (!exited) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(t);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(async () => {
      if (exited) throw new Error(`prometheus exited early: ${stderr}`);
      return (await fetch(`${url}/-/ready`).catch(() => undefined))?.status === 200;
    }, { timeoutMs: 30_000, what: 'prometheus to be ready' });
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    async query(expr) {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await res.json()) as { status: string; error?: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
      if (body.status !== 'success') throw new Error(`query ${expr} failed: ${body.error ?? res.status}`);
      return body.data.result;
    },
    async activeTargets() {
      const res = await fetch(`${url}/api/v1/targets?state=active`);
      const body = (await res.json()) as { data: { activeTargets: Array<{ labels: Record<string, string>; discoveredLabels: Record<string, string> }> } };
      return body.data.activeTargets.map((t) => t.discoveredLabels['__address__'] ?? '');
    },
    stop,
  };
}
