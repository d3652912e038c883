/**
 * Prometheus-style byte sizes ("512KB", "16MiB", "1GB"), as in
 * `--storage.tsdb.retention.size`: every unit is a power of 1024 (Prometheus
 * parses them with units.ParseBase2Bytes, so "1MB" is 1,048,576 bytes).
 * A plain integer is a number of bytes.
 */
const UNIT_BYTES: Record<string, number> = { B: 1, KB: 2 ** 10, KiB: 2 ** 10, MB: 2 ** 20, MiB: 2 ** 20, GB: 2 ** 30, GiB: 2 ** 30 };
const SIZE = /^(\d+)(B|KB|KiB|MB|MiB|GB|GiB)?$/;

/** @returns bytes, or undefined when `s` is not a valid size. */
export function parseByteSize(s: string | number): number | undefined {
  if (typeof s === 'number') return Number.isSafeInteger(s) && s >= 0 ? s : undefined;
  const m = SIZE.exec(s);
  if (!m) return undefined;
  const bytes = Number(m[1]) * (UNIT_BYTES[m[2] ?? 'B'] ?? 1);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}
