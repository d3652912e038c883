/** Process facts for tests. */
import { readdir, readFile } from 'node:fs/promises';

/** True once no process with `pid` exists (kill(pid, 0) fails with ESRCH). */
export function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return err instanceof Error && 'code' in err && err.code === 'ESRCH';
  }
}

/** PIDs of pushgateways whose command line mentions `needle` (Linux /proc). */
export async function pidsMentioning(needle: string): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(needle) && cmdline.includes('pushgateway')) out.push(Number(entry));
  }
  return out.sort();
}
