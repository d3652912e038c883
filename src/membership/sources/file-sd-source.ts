/**
 * Targets from Prometheus file_sd files (file-sd-format.ts), as Prometheus
 * reads them: every file matching the patterns (a `*` in the last path
 * segment), re-read when its directory changes and every refresh interval.
 *
 * The directories are watched, not the files, so a file renamed into place
 * (write a temporary file, then rename: how Prometheus' own writers and
 * shardgate's --sd.file do it) and a file edited in place are both seen.
 * A directory that does not exist yet is watched from the refresh after it
 * appears. Events are coalesced for `settleMs` so an editor's several writes
 * give one read.
 *
 * Any unreadable or invalid file fails the whole answer (`sink.failed`):
 * the glue keeps the last good set until every file is valid again. A file
 * that disappears simply no longer contributes.
 *
 * Contract: reads never overlap (a change during a read causes one more);
 * after stop() nothing is read and the sink is not called.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type Clock, systemClock } from '../../time/clock.js';
import { type DiscoveredTarget, type MembershipSource, type SourceSink } from '../source.js';
import { parseFileSd } from './file-sd-format.js';

export interface FileSdSettings {
  /** Absolute patterns. */
  readonly files: readonly string[];
  readonly refreshIntervalMs: number;
  /** How long a burst of change events is coalesced before reading. */
  readonly settleMs?: number;
}

export class FileSdSource implements MembershipSource {
  readonly kind = 'file_sd';
  readonly #settings: FileSdSettings;
  readonly #clock: Clock;
  readonly #watchers = new Map<string, FSWatcher>();
  #sink: SourceSink | undefined;
  #cancelRefresh: (() => void) | undefined;
  #cancelSettle: (() => void) | undefined;
  #reading: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(settings: FileSdSettings, clock: Clock = systemClock) {
    this.#settings = settings;
    this.#clock = clock;
  }

  async start(sink: SourceSink): Promise<void> {
    this.#sink = sink;
    this.#watchDirectories();
    await this.#read();
    this.#scheduleRefresh();
  }

  stop(): void {
    this.#stopped = true;
    this.#cancelRefresh?.();
    this.#cancelSettle?.();
    for (const w of this.#watchers.values()) w.close();
    this.#watchers.clear();
  }

  #scheduleRefresh(): void {
    if (this.#stopped) return;
    this.#cancelRefresh = this.#clock.setTimer(() => {
      this.#watchDirectories();
      void this.#read().finally(() => this.#scheduleRefresh());
    }, this.#settings.refreshIntervalMs);
  }

  #watchDirectories(): void {
    for (const dir of new Set(this.#settings.files.map((f) => dirname(f)))) {
      if (this.#watchers.has(dir) || this.#stopped) continue;
      try {
        const w = watch(dir, { persistent: false }, () => this.#changed());
        // A watched directory that is removed or unreadable: drop the watcher, the next refresh retries.
        w.on('error', () => {
          w.close();
          this.#watchers.delete(dir);
        });
        this.#watchers.set(dir, w);
      } catch {
        // Missing directory: the refresh interval still reads, and retries the watch.
      }
    }
  }

  #changed(): void {
    if (this.#stopped) return;
    this.#cancelSettle?.();
    this.#cancelSettle = this.#clock.setTimer(() => void this.#read(), this.#settings.settleMs ?? 50);
  }

  /** One read at a time; a request during a read runs one more after it. */
  #read(): Promise<void> {
    if (this.#reading) {
      this.#again = true;
      return this.#reading;
    }
    this.#reading = (async () => {
      do {
        this.#again = false;
        const answer = await this.#readAll();
        if (this.#stopped) return;
        if (typeof answer === 'string') this.#sink?.failed(answer);
        else this.#sink?.update(answer);
      } while (this.#again && !this.#stopped);
    })().finally(() => (this.#reading = undefined));
    return this.#reading;
  }

  /** The union of every matching file's targets (first file in name order wins a duplicate), or why not. */
  async #readAll(): Promise<DiscoveredTarget[] | string> {
    const files: string[] = [];
    try {
      for (const pattern of this.#settings.files) files.push(...(await matching(pattern)));
    } catch (err) {
      return `cannot list ${err instanceof Error ? err.message : String(err)}`;
    }
    const byAddress = new Map<string, DiscoveredTarget>();
    for (const file of [...new Set(files)].sort()) {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // removed since it was listed
        return `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
      }
      try {
        for (const t of parseFileSd(text, file)) if (!byAddress.has(t.address)) byAddress.set(t.address, t);
      } catch (err) {
        return err instanceof Error ? err.message : String(err);
      }
    }
    return [...byAddress.values()];
  }
}

/** Files matching `pattern` now; a missing directory matches nothing. */
async function matching(pattern: string): Promise<string[]> {
  const dir = dirname(pattern);
  const base = basename(pattern);
  const star = base.indexOf('*');
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new Error(`${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const prefix = star < 0 ? base : base.slice(0, star);
  const suffix = star < 0 ? '' : base.slice(star + 1);
  return names
    .filter((n) => (star < 0 ? n === base : n.length >= prefix.length + suffix.length && n.startsWith(prefix) && n.endsWith(suffix)))
    .map((n) => join(dir, n));
}
