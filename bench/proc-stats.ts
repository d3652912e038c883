/**
 * What /proc tells about a process: peak RSS, CPU time, children, command
 * line. Linux only, like the rest of the benchmarks. Every reader returns
 * undefined (or []) for a process that is gone instead of throwing.
 */
import { readFileSync } from 'node:fs';

const CLOCK_TICKS_PER_SECOND = 100;

/** VmHWM (peak resident set size) in bytes. */
export function peakRssBytes(pid: number): number | undefined {
  const status = readProc(`/proc/${pid}/status`);
  const kb = status?.match(/^VmHWM:\s+(\d+)\s+kB/m)?.[1];
  return kb === undefined ? undefined : Number(kb) * 1024;
}

/** User + system CPU seconds used so far by `pid` (its threads included). */
export function cpuSeconds(pid: number): number | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / CLOCK_TICKS_PER_SECOND : undefined;
}

/** Direct children of `pid`. */
export function childPids(pid: number): number[] {
  const text = readProc(`/proc/${pid}/task/${pid}/children`);
  return text === undefined ? [] : text.trim().split(/\s+/).filter((s) => s !== '').map(Number);
}

/** The command line joined with spaces, or undefined once the process is gone. */
export function commandLine(pid: number): string | undefined {
  return readProc(`/proc/${pid}/cmdline`)?.split('\u0000').join(' ').trim();
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** CPU seconds of `pids` together; processes that are gone count 0. */
export function totalCpuSeconds(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + (cpuSeconds(pid) ?? 0), 0);
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
