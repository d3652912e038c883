/**
 * Config reloads (SIGHUP, POST /-/reload): one at a time, and all or
 * nothing. The new file is read and validated in full before anything is
 * applied, so a rejected reload leaves every setting as it was; reloads that
 * arrive while one runs wait for it (each re-reads the file).
 */
import { type Logger } from '../telemetry/logger.js';
import { type Metrics } from '../telemetry/metrics.js';
import { errorMessage } from '../upstream/upstream-error.js';
import { type Config } from './config.js';
import { ConfigError } from './load-config.js';

export interface ReloaderDeps {
  readonly file: string;
  readonly read: () => Promise<Config>;
  /** Throws ConfigError when `next` cannot be applied; must not change anything. */
  readonly validate: (next: Config) => void;
  /** Applies a validated config. */
  readonly apply: (next: Config) => Promise<void>;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export class Reloader {
  readonly #deps: ReloaderDeps;
  #queue: Promise<void> = Promise.resolve();

  constructor(deps: ReloaderDeps) {
    this.#deps = deps;
  }

  /** Rejects with ConfigError (and keeps the previous config) when the file is bad. */
  reload(): Promise<void> {
    const run = this.#queue.then(() => this.#reloadOnce());
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #reloadOnce(): Promise<void> {
    const { logger, metrics, file } = this.#deps;
    try {
      const next = await this.#deps.read();
      this.#deps.validate(next);
      for (const notice of next.notices) logger.warn({ file }, notice);
      await this.#deps.apply(next);
      metrics.configReloadSuccess.set(1);
      metrics.configReloadTime.set(Date.now() / 1000);
    } catch (err) {
      metrics.configReloadSuccess.set(0);
      logger.error({ file, err: errorMessage(err) }, 'configuration reload failed; keeping the previous configuration');
      throw err instanceof ConfigError ? err : new ConfigError(errorMessage(err));
    }
  }
}
