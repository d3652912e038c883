/**
 * The process logger: pino, written as logfmt by default (like Prometheus'
 * own tools) or as JSON lines. One log line per meaningful event, never one
 * per request.
 */
import { pino, type Logger } from 'pino';
import { LogfmtStream } from './logfmt-stream.js';

export type { Logger };
export type LogFormat = 'logfmt' | 'json';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export function createLogger(opts: { level: LogLevel; format: LogFormat; destination?: NodeJS.WritableStream }): Logger {
  const dest = opts.destination ?? process.stderr;
  const options = {
    level: opts.level,
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    messageKey: 'msg',
    formatters: { level: (label: string) => ({ level: label }) },
  };
  if (opts.format === 'json') return pino(options, dest);
  return pino(options, new LogfmtStream(dest));
}

/** A logger that drops everything, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
