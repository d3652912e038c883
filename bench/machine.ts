/** The facts about this machine and build that a result means nothing without. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, release, totalmem } from 'node:os';

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memTotalBytes: number;
  readonly kernel: string;
  readonly node: string;
  readonly pushgateway: string;
  readonly nginx: string;
  readonly autocannon: string;
  readonly shardgate: string;
  /** `git describe --always --dirty` of the tree dist/ was built from (as far as git can tell). */
  readonly git: string;
}

export function machineInfo(pushgatewayBinary: string): MachineInfo {
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memTotalBytes: totalmem(),
    kernel: release(),
    node: process.version,
    pushgateway: firstLine(run(pushgatewayBinary, ['--version'])),
    nginx: firstLine(run('nginx', ['-v'])).replace(/^nginx version: /, ''),
    autocannon: packageVersion('../../node_modules/autocannon/package.json'),
    shardgate: packageVersion('../../package.json'),
    git: firstLine(run('git', ['describe', '--always', '--dirty'])),
  };
}

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: new URL('../..', import.meta.url) });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() || 'unknown';
}

function firstLine(s: string): string {
  return s.split('\n')[0]?.trim() ?? s;
}

function packageVersion(relative: string): string {
  try {
    const pkg: unknown = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8'));
    return typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
