/**
 * `shardgate local --replicas N`: the whole replicated setup on one machine.
 * An embedded single-member etcd (Debian's etcd-server; its data under
 * `${dataDir}/etcd`), this process as replica 1 and N-1 child shardgate
 * processes on the next ports, all routing to the local fleet and sharing
 * one ring through the etcd (src/replicas/).
 *
 * Contracts: `startEtcd()` resolves once etcd answers /health and returns
 * the `replicas` config for this process; `startChildren()` resolves once
 * every child answers /-/healthy; `stop()` stops the children, then etcd
 * (SIGTERM, SIGKILL after a grace), and is idempotent.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Logger } from '../telemetry/logger.js';
import { type ReplicasConfig } from '../config/replicas-config.js';
import { type ConsistencyCheck } from '../config/config.js';
import { freePort } from './free-port.js';

export interface LocalReplicasOptions {
  readonly count: number;
  readonly dataDir: string;
  /** The address replica 1 (this process) listens on; the others take the next ports. */
  readonly host: string;
  readonly port: number;
  readonly routePrefix: string;
  readonly consistencyCheck: ConsistencyCheck;
  /** Flags every child gets too (log level and format, admin and lifecycle APIs). */
  readonly childFlags: readonly string[];
  readonly logger: Logger;
}

const MAIN = fileURLToPath(new URL('../main.js', import.meta.url));
const GRACE_MS = 10_000;

export function findEtcdBinary(): string {
  for (const p of ['/usr/bin/etcd', '/usr/local/bin/etcd']) if (existsSync(p)) return p;
  throw new Error('--replicas needs etcd (Debian/Ubuntu: apt-get install etcd-server)');
}

export class LocalReplicas {
  readonly #o: LocalReplicasOptions;
  #etcd: ChildProcess | undefined;
  #endpoint = '';
  readonly #children: ChildProcess[] = [];
  #stopping: Promise<void> | undefined;

  constructor(options: LocalReplicasOptions) {
    this.#o = options;
  }

  /** Starts etcd; resolves with this process's `replicas` config (replica 1). */
  async startEtcd(): Promise<ReplicasConfig> {
    const dir = resolve(this.#o.dataDir, 'etcd');
    await mkdir(dir, { recursive: true });
    const [client, peer] = [await freePort(), await freePort()];
    this.#endpoint = `http://127.0.0.1:${client}`;
    const etcd = spawn(
      findEtcdBinary(),
      [
        `--data-dir=${dir}`,
        `--listen-client-urls=${this.#endpoint}`,
        `--advertise-client-urls=${this.#endpoint}`,
        `--listen-peer-urls=http://127.0.0.1:${peer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
        `--initial-cluster=default=http://127.0.0.1:${peer}`,
        '--log-level=error',
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    this.#etcd = etcd;
    etcd.once('exit', (code, signal) => {
      if (this.#stopping === undefined) this.#o.logger.error({ code, signal }, 'embedded etcd exited: the replicas can no longer coordinate');
    });
    await waitUntil(async () => (await fetch(`${this.#endpoint}/health`).catch(() => undefined))?.status === 200, 20_000, 'the embedded etcd to answer');
    this.#o.logger.info({ endpoint: this.#endpoint, data_dir: dir }, 'embedded etcd started');
    return this.#replicasConfig(1);
  }

  /** Starts replicas 2..N as child processes; resolves once all answer. */
  async startChildren(targets: readonly string[]): Promise<void> {
    for (let i = 2; i <= this.#o.count; i++) {
      const port = this.#o.port + i - 1;
      const file = resolve(this.#o.dataDir, `replica-${i}.yml`);
      await writeFile(file, this.#childConfig(i, targets));
      const child = spawn(process.execPath, [MAIN, `--config.file=${file}`, `--web.listen-address=${this.#o.host}:${port}`, ...this.#o.childFlags], { stdio: ['ignore', 'inherit', 'inherit'] });
      this.#children.push(child);
      child.once('exit', (code, signal) => {
        if (this.#stopping === undefined) this.#o.logger.error({ replica: `replica-${i}`, code, signal }, 'a replica exited');
      });
      await waitUntil(async () => (await fetch(`http://${connectHost(this.#o.host)}:${port}${this.#o.routePrefix}/-/healthy`).catch(() => undefined))?.status === 200, 30_000, `replica ${i} to answer`);
    }
    this.#o.logger.info({ replicas: this.#o.count, ports: Array.from({ length: this.#o.count }, (_, i) => this.#o.port + i).join(',') }, 'local replicas running');
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await Promise.all(this.#children.map((c) => stopChild(c)));
      if (this.#etcd !== undefined) await stopChild(this.#etcd);
    })();
    return this.#stopping;
  }

  #replicasConfig(i: number): ReplicasConfig {
    return {
      id: `replica-${i}`,
      advertiseUrl: `http://${connectHost(this.#o.host)}:${this.#o.port + i - 1}${this.#o.routePrefix}`,
      leaseTtlMs: 20_000,
      pollIntervalMs: 500,
      notReadyAfterMs: 30_000,
      backend: { kind: 'etcd', endpoints: [this.#endpoint], prefix: '/shardgate-local/', username: undefined, password: undefined },
    };
  }

  #childConfig(i: number, targets: readonly string[]): string {
    const r = this.#replicasConfig(i);
    return [
      `# written by shardgate local --replicas ${this.#o.count}: replica ${i} of the local fleet`,
      `targets: [${targets.map((t) => JSON.stringify(t)).join(', ')}]`,
      `push: { consistency_check: ${this.#o.consistencyCheck} }`,
      'replicas:',
      `  id: ${r.id}`,
      `  advertise_url: ${JSON.stringify(r.advertiseUrl)}`,
      `  etcd: { endpoints: [${JSON.stringify(this.#endpoint)}], prefix: /shardgate-local/ }`,
      '',
    ].join('\n');
  }
}

/** Loopback for "listen everywhere" addresses: where the replicas reach each other. */
function connectHost(host: string): string {
  return host === '' || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), GRACE_MS);
  await gone;
  clearTimeout(timer);
}

