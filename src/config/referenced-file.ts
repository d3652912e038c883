/**
 * Reads a file a config file refers to (certificate, key, CA, password),
 * relative to the config file's directory, as Prometheus and the
 * exporter-toolkit resolve them. A failure is recorded as a problem naming
 * the key, so every problem in the file is reported at once.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

/** @returns the contents, or undefined (and a new entry in `problems`) when unreadable. */
export function readReferencedFile(baseDir: string, path: string, key: string, problems: string[]): string | undefined {
  const full = isAbsolute(path) ? path : join(baseDir, path);
  try {
    return readFileSync(full, 'utf8');
  } catch (err) {
    problems.push(`${key}: cannot read ${full}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    return undefined;
  }
}
