/**
 * Prometheus' file_sd format, pure: a JSON or YAML list of target groups
 * `{targets: ["host:port", ...], labels: {name: value}}`
 * (https://prometheus.io/docs/prometheus/latest/configuration/configuration/#file_sd_config).
 * Anything else, including an empty (half-written) file, is a
 * FileSdFormatError: the caller keeps its last good answer.
 */
import { parse as parseYaml } from 'yaml';
import { type DiscoveredTarget } from '../source.js';

export class FileSdFormatError extends Error {
  override readonly name = 'FileSdFormatError';
  readonly code = 'SHARDGATE_BAD_FILE_SD';
}

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * @returns the targets of one file, each labelled with the file's labels and
 *   `filepath` (Prometheus' `__meta_filepath`).
 */
export function parseFileSd(text: string, path: string): DiscoveredTarget[] {
  if (text.trim() === '') throw new FileSdFormatError(`${path}: empty file`);
  let raw: unknown;
  try {
    raw = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new FileSdFormatError(`${path}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  if (!Array.isArray(raw)) throw new FileSdFormatError(`${path}: expected a list of target groups`);
  const out: DiscoveredTarget[] = [];
  raw.forEach((group: unknown, i) => {
    const at = `${path}: group ${i}`;
    if (group === null || typeof group !== 'object' || Array.isArray(group)) throw new FileSdFormatError(`${at}: expected {targets, labels}`);
    const { targets, labels, ...rest } = group as Record<string, unknown>;
    const unknown = Object.keys(rest);
    if (unknown.length > 0) throw new FileSdFormatError(`${at}: unknown key ${unknown.join(', ')}`);
    if (!Array.isArray(targets)) throw new FileSdFormatError(`${at}: targets must be a list`);
    const groupLabels = labelsOf(labels, at);
    for (const t of targets) {
      if (typeof t !== 'string' || !HOST_PORT.test(t)) throw new FileSdFormatError(`${at}: target ${JSON.stringify(t)} is not host:port`);
      out.push({ address: t, labels: { ...groupLabels, filepath: path } });
    }
  });
  return out;
}

function labelsOf(labels: unknown, at: string): Record<string, string> {
  if (labels === undefined || labels === null) return {};
  if (typeof labels !== 'object' || Array.isArray(labels)) throw new FileSdFormatError(`${at}: labels must be a map`);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(labels)) {
    if (!LABEL_NAME.test(name)) throw new FileSdFormatError(`${at}: invalid label name ${JSON.stringify(name)}`);
    if (typeof value !== 'string') throw new FileSdFormatError(`${at}: label ${name} must be a string`);
    // Prometheus' reserved `__` labels (e.g. __address__) mean nothing here.
    if (!name.startsWith('__')) out[name] = value;
  }
  return out;
}
