/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): the functions with
 * the most self time, and self time grouped by where the code comes from,
 * as shares of the busy (not idle) time. Native frames such as `writev`
 * are socket writes: their time is mostly the kernel's.
 *
 *   node dist/bench/profile-summary.js <file.cpuprofile> [top]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface SelfTime {
  readonly name: string;
  readonly where: string;
  readonly selfMs: number;
  readonly percent: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  /** Sampled time minus (idle): percentages below are of this. */
  readonly busyMs: number;
  readonly top: readonly SelfTime[];
  readonly byOrigin: readonly { readonly origin: string; readonly selfMs: number; readonly percent: number }[];
}

export function summariseProfile(file: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  let idle = 0;
  for (const [id, us] of selfUs) if (byId.get(id)?.callFrame.functionName === '(idle)') idle += us;
  const busy = Math.max(1, total - idle);
  const byFunction = new Map<string, { name: string; where: string; us: number }>();
  const byOrigin = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame || frame.functionName === '(idle)') continue;
    const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
    const where = frame.url === '' ? '' : `${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
    const key = `${name} ${where}`;
    const entry = byFunction.get(key) ?? { name, where, us: 0 };
    entry.us += us;
    byFunction.set(key, entry);
    const origin = originOf(frame.url, name);
    byOrigin.set(origin, (byOrigin.get(origin) ?? 0) + us);
  }
  const pct = (us: number): number => Math.round((us / busy) * 1000) / 10;
  return {
    totalMs: Math.round(total / 1000),
    busyMs: Math.round(busy / 1000),
    top: [...byFunction.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((e) => ({ name: e.name, where: e.where, selfMs: Math.round(e.us / 1000), percent: pct(e.us) })),
    byOrigin: [...byOrigin]
      .sort((a, b) => b[1] - a[1])
      .map(([origin, us]) => ({ origin, selfMs: Math.round(us / 1000), percent: pct(us) })),
  };
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('node_modules/');
  if (nm !== -1) return url.slice(nm + 'node_modules/'.length);
  const dist = url.lastIndexOf('/dist/');
  if (dist !== -1) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, '');
}

function originOf(url: string, name: string): string {
  if (url === '') return name.startsWith('(') ? name : '(native)';
  if (url.startsWith('node:')) return 'node core';
  const nm = url.match(/node_modules\/((@[^/]+\/)?[^/]+)/);
  if (nm?.[1]) return nm[1];
  if (url.includes('/dist/src/')) return 'shardgate (dist/src)';
  return url;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (file === undefined) {
    process.stderr.write('usage: node dist/bench/profile-summary.js <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  const s = summariseProfile(file, Number(process.argv[3] ?? 20));
  process.stdout.write(`sampled ${s.totalMs} ms, of which busy (not idle) ${s.busyMs} ms; percentages are of busy time\n\nself time by function:\n`);
  for (const t of s.top) process.stdout.write(`  ${t.percent.toFixed(1).padStart(5)}%  ${String(t.selfMs).padStart(6)} ms  ${t.name}  ${t.where}\n`);
  process.stdout.write('\nself time by origin:\n');
  for (const o of s.byOrigin) process.stdout.write(`  ${o.percent.toFixed(1).padStart(5)}%  ${String(o.selfMs).padStart(6)} ms  ${o.origin}\n`);
}
