/**
 * Turns pino's JSON lines into logfmt (`ts=... level=info msg="..." k=v`).
 * Synchronous and in-process: log volume is per event, not per request, so a
 * JSON.parse per line costs nothing that matters and needs no worker thread.
 */
export class LogfmtStream {
  readonly #out: NodeJS.WritableStream;

  constructor(out: NodeJS.WritableStream) {
    this.#out = out;
  }

  write(line: string): boolean {
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return this.#out.write(line);
    }
    const { time, level, msg, ...rest } = record;
    const parts = [`ts=${String(time)}`, `level=${String(level)}`];
    if (msg !== undefined) parts.push(`msg=${quote(String(msg))}`);
    for (const [k, v] of Object.entries(rest)) parts.push(`${k}=${quote(render(v))}`);
    return this.#out.write(parts.join(' ') + '\n');
  }
}

function render(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v !== null && typeof v === 'object') {
    if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(',');
    const err = v as { message?: unknown };
    if (typeof err.message === 'string') return err.message;
    return JSON.stringify(v);
  }
  return String(v);
}

function quote(s: string): string {
  return /^[^\s"=\\]+$/.test(s) ? s : JSON.stringify(s);
}
