/**
 * Prometheus-style durations ("500ms", "5s", "1m30s", "2h"), as used in
 * prometheus.yml. Parsed to milliseconds.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };
const DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const ORDER = ['y', 'w', 'd', 'h', 'm', 's', 'ms'] as const;

/** @returns milliseconds, or undefined when `s` is not a valid duration. */
export function parseDuration(s: string): number | undefined {
  if (s === '0') return 0;
  if (s === '') return undefined;
  const m = DURATION.exec(s);
  if (!m) return undefined;
  let total = 0;
  ORDER.forEach((unit, i) => {
    const n = m[i + 1];
    if (n !== undefined) total += Number(n) * (UNIT_MS[unit] ?? 0);
  });
  return total;
}
