/**
 * What suite 1 pushes to: one pushgateway, or `shardgate local --shards=N`.
 * Both can restart their pushgateways with the consistency check off or on,
 * from the same persistence files, for the fast pre-fill of large stages.
 *
 * For `shardgate local` this needs no change to shardgate: its
 * --pushgateway.binary is a wrapper script that adds
 * --push.disable-consistency-check while a flag file exists, and each child
 * is restarted by SIGTERM (the fleet supervisor brings it back on the same
 * port with the same file).
 */
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ProcessSet, type BenchShardgate, type BenchPushgateway, shardTargets } from './processes.js';
import { consistencyCheckOn } from './workload.js';
import { waitUntil } from './progress.js';

export interface Subject {
  readonly name: string;
  readonly shards: number;
  /** Where pushes go. */
  readonly url: string;
  /** PIDs of the pushgateways, and of shardgate when there is one. */
  pids(): { pushgateways: number[]; shardgate: number | undefined };
  /** host:port of every pushgateway. */
  targets(): Promise<string[]>;
  /** Restarts every pushgateway with the consistency check on or off; resolves once all are back and routable. */
  setCheck(on: boolean): Promise<void>;
  stop(): Promise<void>;
}

export async function singleSubject(procs: ProcessSet, dir: string): Promise<Subject> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'pushgateway.data');
  let pg: BenchPushgateway = await procs.pushgateway('pushgateway (single)', file);
  const port = Number(pg.target.split(':').pop());
  return {
    name: 'single pushgateway',
    shards: 1,
    url: pg.url,
    pids: () => ({ pushgateways: pg.pids(), shardgate: undefined }),
    targets: async () => [pg.target],
    async setCheck(on) {
      await pg.stop();
      pg = await procs.pushgateway('pushgateway (single)', file, on ? [] : ['--push.disable-consistency-check'], port);
    },
    stop: () => pg.stop(),
  };
}

/**
 * `shardgate local --shards=N` with its default configuration, except
 * `push.consistency_check: shard` (what suite 1 compares) and
 * `rebalance.sweep_interval: 10m`: every subject of the suite runs at once,
 * and an idle one must not read every group of its fleet while another
 * is being measured.
 */
export async function shardedSubject(procs: ProcessSet, dir: string, shards: number, nodeArgs: readonly string[]): Promise<Subject> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'data'), { recursive: true });
  const checkOffFlag = join(dir, 'check-off');
  const wrapper = join(dir, 'pushgateway-wrapper.sh');
  await writeFile(
    wrapper,
    `#!/bin/sh
# shardgate bench: pushgateway with the consistency check off while ${checkOffFlag} exists.
if [ -e '${checkOffFlag}' ]; then exec '${procs.pushgatewayBinary}' --push.disable-consistency-check "$@"; fi
exec '${procs.pushgatewayBinary}' "$@"
`,
  );
  await chmod(wrapper, 0o755);
  const config = join(dir, 'shardgate.yml');
  // `shard` mode: suite 1 measures each pushgateway's own check; gateway mode is measured on its own.
  await writeFile(config, 'rebalance:\n  sweep_interval: 10m\npush:\n  consistency_check: shard\n');
  const name = `shardgate local --shards=${shards}`;
  const sg: BenchShardgate = await procs.shardgate({
    name,
    args: ['local', `--shards=${shards}`, `--data.dir=${join(dir, 'data')}`, `--pushgateway.binary=${wrapper}`, `--config.file=${config}`],
    expectShards: shards,
    nodeArgs,
  });
  return {
    name,
    shards,
    url: sg.url,
    pids: () => ({ pushgateways: sg.fleetPids(), shardgate: sg.pid }),
    targets: () => shardTargets(sg.url, false),
    async setCheck(on) {
      if (on) await rm(checkOffFlag, { force: true });
      else await writeFile(checkOffFlag, '');
      const targets = await shardTargets(sg.url, false);
      const old = sg.fleetPids();
      if (old.length !== shards) throw new Error(`${name}: expected ${shards} pushgateway children, found ${old.length}`);
      for (const pid of old) process.kill(pid, 'SIGTERM');
      await waitUntil(
        `${name}: ${shards} restarted pushgateways with the check ${on ? 'on' : 'off'}`,
        async () => {
          const now = sg.fleetPids();
          if (now.length !== shards || now.some((p) => old.includes(p))) return false;
          const states = await Promise.all(targets.map((t) => consistencyCheckOn(t).catch(() => undefined)));
          return states.every((s) => s === on);
        },
        60_000,
      );
      await waitUntil(`${name}: ${shards} healthy shards`, async () => (await shardTargets(sg.url, true)).length === shards, 60_000);
    },
    stop: () => sg.stop(),
  };
}
