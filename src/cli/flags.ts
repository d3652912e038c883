/**
 * Command-line flags in Prometheus style (`--config.file=x` or
 * `--config.file x`, boolean `--web.enable-admin-api`). Parsed once into a
 * frozen value; a bad flag is an error that names it.
 */
import { parseArgs } from 'node:util';
import { computeRoutePrefix } from '../web/route-prefix.js';

export type Command = 'serve' | 'local';

export interface Flags {
  readonly command: Command;
  readonly configFile: string;
  /** True when --config.file was given (a missing file is then an error). */
  readonly configFileExplicit: boolean;
  readonly listenAddress: string | undefined;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  readonly logFormat: 'logfmt' | 'json';
  /** --web.config.file: TLS, basic auth and headers (exporter-toolkit format). */
  readonly webConfigFile: string | undefined;
  readonly externalUrl: string | undefined;
  /** Effective route prefix: "" or "/path" (from --web.route-prefix, else the external URL's path). */
  readonly routePrefix: string;
  readonly enableAdminApi: boolean;
  readonly enableLifecycle: boolean;
  readonly sdFile: string | undefined;
  readonly mode: 'proxy' | 'redirect' | undefined;
  // local fleet
  readonly shards: number;
  /** local: shardgate replicas to run (the first is this process), sharing one ring through an embedded etcd. */
  readonly replicas: number;
  readonly dataDir: string;
  readonly pushgatewayBinary: string | undefined;
  readonly pushgatewayArgs: readonly string[];
  /** `local --standby`: one standby pushgateway per shard, and replication on. */
  readonly standby: boolean;
  readonly help: boolean;
  readonly version: boolean;
}

export class FlagError extends Error {
  override readonly name = 'FlagError';
}

export const USAGE = `usage: shardgate [local] [flags]

  shardgate             route pushes to the pushgateways in the config file
  shardgate local       start a local fleet of pushgateways and route to them

flags:
  --config.file=PATH           configuration file (default shardgate.yml)
  --web.listen-address=ADDR    address to listen on (default :9292; overrides the file)
  --web.config.file=PATH       TLS, basic auth and headers (exporter-toolkit web config format)
  --web.external-url=URL       the URL shardgate is reachable under (its path is the default route prefix)
  --web.route-prefix=PATH      prefix of every route (default: the path of --web.external-url)
  --web.enable-admin-api       enable PUT /api/v1/admin/wipe and the drain API
  --web.enable-lifecycle       enable POST /-/reload and /-/quit
  --mode=proxy|redirect        overrides the file's mode
  --sd.file=PATH               also write the shard list as a file_sd_configs file
  --log.level=LEVEL            debug, info, warn, error (default info)
  --log.format=FORMAT          logfmt or json (default logfmt)
local only:
  --shards=N                   number of pushgateways to run (default 4)
  --data.dir=DIR               persistence files go here (default ./data)
  --pushgateway.binary=PATH    pushgateway executable (default: prometheus-pushgateway or pushgateway in PATH)
  --pushgateway.arg=ARG        extra argument for every pushgateway (repeatable)
  --replicas=N                 shardgate replicas (default 1); above 1, they share one ring
                               through an embedded etcd (needs etcd installed), on the ports
                               after --web.listen-address's
  --standby                    also start one standby pushgateway per shard (never scraped) and turn replication on
`;

export function parseFlags(argv: readonly string[]): Flags {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        'config.file': { type: 'string' },
        'web.listen-address': { type: 'string' },
        'web.config.file': { type: 'string' },
        'web.external-url': { type: 'string' },
        'web.route-prefix': { type: 'string' },
        'web.enable-admin-api': { type: 'boolean', default: false },
        'web.enable-lifecycle': { type: 'boolean', default: false },
        'sd.file': { type: 'string' },
        mode: { type: 'string' },
        'log.level': { type: 'string', default: 'info' },
        'log.format': { type: 'string', default: 'logfmt' },
        shards: { type: 'string', default: '4' },
        replicas: { type: 'string', default: '1' },
        'data.dir': { type: 'string', default: './data' },
        'pushgateway.binary': { type: 'string' },
        'pushgateway.arg': { type: 'string', multiple: true, default: [] },
        standby: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', default: false },
      },
    });
  } catch (err) {
    throw new FlagError(err instanceof Error ? err.message : String(err));
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1 || (positionals[0] !== undefined && positionals[0] !== 'local' && positionals[0] !== 'serve')) {
    throw new FlagError(`unknown command ${JSON.stringify(positionals.join(' '))}; expected "local" or nothing`);
  }
  const logLevel = oneOf('log.level', values['log.level'], ['debug', 'info', 'warn', 'error'] as const);
  const logFormat = oneOf('log.format', values['log.format'], ['logfmt', 'json'] as const);
  const mode = values.mode === undefined ? undefined : oneOf('mode', values.mode, ['proxy', 'redirect'] as const);
  const shards = Number(values.shards);
  if (!Number.isInteger(shards) || shards < 1 || shards > 256) throw new FlagError(`--shards: must be a whole number from 1 to 256, got ${JSON.stringify(values.shards)}`);
  const replicas = Number(values.replicas);
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 9) throw new FlagError(`--replicas: must be a whole number from 1 to 9, got ${JSON.stringify(values.replicas)}`);
  if (replicas > 1 && positionals[0] !== 'local') throw new FlagError('--replicas: only with `shardgate local` (elsewhere, configure `replicas:` in the config file)');
  const listen = values['web.listen-address'];
  if (listen !== undefined && !/^(\[[0-9a-fA-F:.]*\]|[A-Za-z0-9_.-]*):\d{1,5}$/.test(listen)) {
    throw new FlagError(`--web.listen-address: must be [host]:port, got ${JSON.stringify(listen)}`);
  }
  let externalUrl: URL | undefined;
  if (values['web.external-url'] !== undefined && values['web.external-url'] !== '') {
    try {
      externalUrl = new URL(values['web.external-url']);
    } catch {
      throw new FlagError(`--web.external-url: must be an absolute URL, got ${JSON.stringify(values['web.external-url'])}`);
    }
  }
  return Object.freeze({
    command: positionals[0] === 'local' ? 'local' : 'serve',
    configFile: values['config.file'] ?? 'shardgate.yml',
    configFileExplicit: values['config.file'] !== undefined,
    listenAddress: listen,
    logLevel,
    logFormat,
    webConfigFile: values['web.config.file'],
    externalUrl: externalUrl?.href,
    routePrefix: computeRoutePrefix(values['web.route-prefix'], externalUrl),
    enableAdminApi: values['web.enable-admin-api'] ?? false,
    enableLifecycle: values['web.enable-lifecycle'] ?? false,
    sdFile: values['sd.file'],
    mode,
    shards,
    replicas,
    dataDir: values['data.dir'] ?? './data',
    pushgatewayBinary: values['pushgateway.binary'],
    pushgatewayArgs: Object.freeze([...(values['pushgateway.arg'] ?? [])]),
    standby: values.standby ?? false,
    help: values.help ?? false,
    version: values.version ?? false,
  } satisfies Flags);
}

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T {
  const found = allowed.find((a) => a === value);
  if (found === undefined) throw new FlagError(`--${flag}: must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  return found;
}

/** ":9292" → { host: undefined, port: 9292 }; "[::1]:80" → { host: "::1", port: 80 }. */
export function splitListenAddress(addr: string): { host: string | undefined; port: number } {
  const i = addr.lastIndexOf(':');
  let host = addr.slice(0, i);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { host: host === '' ? undefined : host, port: Number(addr.slice(i + 1)) };
}
