/**
 * Finding the pushgateway executable to run the local fleet with.
 *
 * Contract: `findPushgatewayBinary` returns the path of an existing regular
 * file that this process may execute, or throws PushgatewayNotFoundError
 * whose message tells the operator how to fix it. It never spawns anything.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Names searched in PATH, in order: Debian's package name first, then upstream's. */
export const PUSHGATEWAY_BINARY_NAMES: readonly string[] = Object.freeze(['prometheus-pushgateway', 'pushgateway']);

const HOW_TO_FIX =
  'install it with `apt-get install prometheus-pushgateway` (Debian/Ubuntu) or pass --pushgateway.binary=PATH';

export class PushgatewayNotFoundError extends Error {
  readonly code = 'SHARDGATE_PUSHGATEWAY_NOT_FOUND';

  constructor(message: string) {
    super(message);
    this.name = 'PushgatewayNotFoundError';
  }
}

/**
 * @param explicit a path given by the operator. It must exist and be
 *   executable; nothing else is tried when it is given. A bare name without
 *   a slash (e.g. "pushgateway") is looked up in PATH instead.
 * @param searchPath the PATH to search, defaulting to this process's. Tests
 *   pass their own so they never mutate process.env.
 */
export function findPushgatewayBinary(explicit?: string, searchPath: string = process.env['PATH'] ?? ''): string {
  if (explicit !== undefined && explicit !== '') {
    const found = explicit.includes('/') ? (isExecutableFile(explicit) ? explicit : undefined) : lookInPath(explicit, searchPath);
    if (found !== undefined) return found;
    throw new PushgatewayNotFoundError(
      `pushgateway binary ${JSON.stringify(explicit)} does not exist or is not executable; ${HOW_TO_FIX}`,
    );
  }
  for (const name of PUSHGATEWAY_BINARY_NAMES) {
    const found = lookInPath(name, searchPath);
    if (found !== undefined) return found;
  }
  throw new PushgatewayNotFoundError(
    `no pushgateway binary found (looked for ${PUSHGATEWAY_BINARY_NAMES.join(', ')} in PATH); ${HOW_TO_FIX}`,
  );
}

function lookInPath(name: string, searchPath: string): string | undefined {
  for (const dir of searchPath.split(delimiter)) {
    // An empty PATH entry means the current directory in POSIX shells; we do
    // not honour that, so a stray binary in the cwd is never picked up.
    if (dir === '') continue;
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
