/** What a real pushgateway says about itself: push requests it handled, and whether it is up. */
import { isGone } from './process-state.js';

/** Requests that reached the pushgateway's push handler (any method, any code). */
export async function pushesHandled(url: string): Promise<number> {
  const res = await fetch(`${url}/metrics`);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${url}/metrics answered ${res.status}: ${text.slice(0, 300)}`);
  let n = 0;
  for (const m of text.matchAll(/^pushgateway_http_requests_total\{[^}]*handler="push"[^}]*\} (\d+)$/gm)) n += Number(m[1]);
  return n;
}

/** /metrics answers 200 and reaches the pushgateway's own families (a bad family can cut it short). */
export async function servesMetrics(url: string): Promise<boolean> {
  const res = await fetch(`${url}/metrics`).catch(() => undefined);
  return res?.status === 200 && (await res.text()).includes('pushgateway_build_info');
}

/** The process exists and answers /-/healthy with 200. */
export async function isHealthy(url: string, pid: number): Promise<boolean> {
  if (isGone(pid)) return false;
  const res = await fetch(`${url}/-/healthy`).catch(() => undefined);
  return res?.status === 200;
}

/** Peak resident memory of a process in bytes (VmHWM), from /proc. */
export async function peakRss(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
  return kb === undefined ? NaN : Number(kb) * 1024;
}
