/**
 * Writes the discovery list as a `file_sd_configs` JSON file, atomically
 * (temporary file + rename), so Prometheus' file watcher never reads half a
 * file. Writes only when the content changes.
 */
import { rename, writeFile } from 'node:fs/promises';
import { type SdTargetGroup } from './http-sd.js';

export class SdFileWriter {
  readonly #path: string;
  #last: string | undefined;
  #queue: Promise<void> = Promise.resolve();

  constructor(path: string) {
    this.#path = path;
  }

  /** Resolves once this content (or a later one) is on disk. Writes are serialised. */
  write(groups: readonly SdTargetGroup[]): Promise<void> {
    const text = JSON.stringify(groups, null, 2) + '\n';
    this.#queue = this.#queue.then(async () => {
      if (text === this.#last) return;
      const tmp = `${this.#path}.${process.pid}.tmp`;
      await writeFile(tmp, text, 'utf8');
      await rename(tmp, this.#path);
      this.#last = text;
    });
    return this.#queue;
  }
}
