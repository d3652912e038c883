#!/usr/bin/env node
/**
 * The one place that reads argv, the config file and signals, and wires the
 * pieces together: membership → ring → proxy → HTTP server (and, with
 * `local`, the pushgateway fleet underneath).
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseFlags, splitListenAddress, USAGE, type Flags } from './cli/flags.js';
import { loadConfigFile, defaultConfig, ConfigError } from './config/load-config.js';
import { type Config } from './config/config.js';
import { createLogger } from './telemetry/logger.js';
import { Metrics } from './telemetry/metrics.js';
import { UpstreamPools } from './upstream/upstream-pools.js';
import { PushgatewayClient } from './upstream/pushgateway-client.js';
import { HealthCheckedTargets } from './membership/health-checked-targets.js';
import { PushProxy, type Routing } from './proxy/push-proxy.js';
import { PushRouter } from './proxy/push-router.js';
import { systemClock } from './time/clock.js';
import { createRouter } from './http/router.js';
import { ConnectionLimits } from './http/connection-limits.js';
import { answerClientError } from './http/client-error.js';
import { SdFileWriter } from './discovery/sd-file-writer.js';
import { findPushgatewayBinary } from './local/pushgateway-binary.js';
import { errorMessage } from './upstream/upstream-error.js';
import { LocalFleet } from './local/local-fleet.js';
import { GroupLocks } from './rebalance/group-locks.js';
import { Coordinator } from './rebalance/coordinator.js';
import { Reloader } from './config/reloader.js';
import { WebServer } from './web/web-server.js';
import { ShardgateError } from './http/errors.js';
import { ExpirySweeper } from './expiry/expiry-sweeper.js';
import { describeListing, deleteSelected, listSelected, type BulkDeps } from './expiry/bulk-delete.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const SHUTDOWN_GRACE_MS = 30_000;

async function main(argv: readonly string[]): Promise<number> {
  let flags: Flags;
  try {
    flags = parseFlags(argv);
  } catch (err) {
    process.stderr.write(`shardgate: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }
  if (flags.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (flags.version) {
    process.stdout.write(`shardgate ${VERSION} (node ${process.version})\n`);
    return 0;
  }
  const logger = createLogger({ level: flags.logLevel, format: flags.logFormat });
  const readConfig = async (): Promise<Config> =>
    flags.configFileExplicit || existsSync(flags.configFile) ? loadConfigFile(flags.configFile) : defaultConfig();

  let config: Config;
  try {
    config = await readConfig();
  } catch (err) {
    logger.error({ err: errorMessage(err) }, 'cannot load configuration');
    return 1;
  }
  for (const notice of config.notices) logger.warn({ file: flags.configFile }, notice);
  let web: WebServer;
  try {
    web = await WebServer.load(flags.webConfigFile, logger.child({ component: 'web' }));
  } catch (err) {
    logger.error({ err: errorMessage(err) }, 'cannot load web configuration');
    return 1;
  }

  const metrics = new Metrics(VERSION);
  metrics.configReloadSuccess.set(1);
  metrics.configReloadTime.set(Date.now() / 1000);

  let fleet: LocalFleet | undefined;
  let targets = config.targets;
  if (flags.command === 'local') {
    let binary: string;
    try {
      binary = findPushgatewayBinary(flags.pushgatewayBinary);
    } catch (err) {
      logger.error({ err: errorMessage(err) }, 'cannot start the local fleet');
      return 1;
    }
    if (config.targets.length > 0) logger.warn({ targets: config.targets.join(',') }, 'local mode routes to its own fleet; the targets in the config file are ignored');
    fleet = new LocalFleet({ shards: flags.shards, dataDir: flags.dataDir, binary, extraArgs: [...flags.pushgatewayArgs], logger: logger.child({ component: 'fleet' }) });
    try {
      targets = await fleet.start();
    } catch (err) {
      logger.error({ err: errorMessage(err) }, 'local fleet failed to start');
      await fleet.stop();
      return 1;
    }
  } else if (targets.length === 0) {
    logger.error({ file: flags.configFile }, 'no pushgateway targets configured: set `targets` (or dynamic-sharding\'s `pushgateway.servers`) in the config file, or run `shardgate local`');
    return 1;
  }

  // Pushes, background work (reads, rebalancing) and health checks use
  // separate connection pools, so neither a push backlog nor a rebalance
  // ever delays a health check.
  const pushPools = new UpstreamPools(config.upstream);
  const controlPools = new UpstreamPools(config.upstream, { maxConnections: 4 });
  const healthPools = new UpstreamPools(config.upstream, { maxConnections: 1 });
  const allPools = [pushPools, controlPools, healthPools];
  const client = new PushgatewayClient(controlPools);
  const healthClient = new PushgatewayClient(healthPools);
  const membership = new HealthCheckedTargets({
    targets,
    settings: config.healthCheck,
    probe: (t, ms) => healthClient.checkHealthy(t, ms),
    logger: logger.child({ component: 'membership' }),
    metrics,
    onRecovering: (t) => coordinator.shardRecovering(t),
  });

  const sdFile = flags.sdFile ? new SdFileWriter(flags.sdFile) : undefined;
  const publishDiscovery = (): void => {
    sdFile?.write(coordinator.discovery()).catch((err: unknown) => logger.error({ err: errorMessage(err), file: flags.sdFile }, 'cannot write sd file'));
  };
  const locks = new GroupLocks();
  const coordinator: Coordinator = new Coordinator(
    {
      client,
      clock: systemClock,
      locks,
      logger: logger.child({ component: 'rebalance' }),
      metrics,
      membership,
      timeoutMs: Math.max(config.upstream.responseTimeoutMs, 30_000),
      onDiscoveryChange: publishDiscovery,
      completeInDoubt: () => router.completeInDoubt(),
    },
    config.rebalance,
  );
  let mode = flags.mode ?? config.mode;
  let routingView: Routing = { ...coordinator.routing(), mode };
  /** The routing with the mode, rebuilt only when either changed. */
  const routing = (): Routing => {
    const table = coordinator.routing();
    if (table.ring !== routingView.ring || table.overrides !== routingView.overrides || mode !== routingView.mode) routingView = { ...table, mode };
    return routingView;
  };
  const router = new PushRouter({
    locks,
    routing: () => coordinator.routing(),
    observer: coordinator,
    deleteOn: (target, path) => client.delete(target, path, config.upstream.responseTimeoutMs),
    inDoubt: (err) => err instanceof ShardgateError && err.inDoubt,
  });
  // Expiry and bulk delete: delete-if-unchanged under the group locks, reported to the coordinator like client DELETEs.
  const groupDeletes: BulkDeps = {
    locks,
    routing: () => coordinator.routing(),
    client,
    observer: coordinator,
    timeoutMs: Math.max(config.upstream.responseTimeoutMs, 30_000),
    shards: () => membership.statuses().filter((s) => s.health === 'up').map((s) => s.target),
  };
  const expiry = new ExpirySweeper({
    ...groupDeletes,
    settings: () => config.expiry,
    clock: systemClock,
    wallNow: Date.now,
    logger: logger.child({ component: 'expiry' }),
    metrics,
  });
  await membership.start();
  await coordinator.idle();
  coordinator.startSweeping();
  expiry.start();
  publishDiscovery();
  if (routing().ring.members.length === 0) logger.warn({ targets: targets.join(',') }, 'no pushgateway is healthy yet: pushes get 503 until one is');

  const proxy = new PushProxy({
    pools: pushPools,
    metrics,
    router,
    routing,
    maxBodyBytes: () => config.limits.maxBodyBytes,
    onUnreachable: (t) => void membership.checkNow(t),
  });

  const connectionLimits = new ConnectionLimits(config.limits, metrics);
  let shuttingDown = false;
  let applyWebConfig = (): void => undefined;
  const reloader = new Reloader({
    file: flags.configFile,
    // The web config file is re-read and checked with the config file, and applied with it.
    read: async () => {
      const next = await readConfig();
      applyWebConfig = await web.prepareReload();
      return next;
    },
    validate: (next) => {
      if (fleet === undefined && next.targets.length === 0) throw new ConfigError('no pushgateway targets configured');
    },
    apply: async (next) => {
      for (const pools of allPools) pools.reconfigure(next.upstream);
      mode = flags.mode ?? next.mode;
      coordinator.settings = next.rebalance;
      if (next.rebalance.enabled !== config.rebalance.enabled) logger.warn('rebalance.enabled changed: takes effect on restart');
      if (next.listenAddress !== config.listenAddress && flags.listenAddress === undefined) logger.warn('listen_address changed: takes effect on restart');
      const nextTargets = fleet === undefined ? next.targets : targets;
      await coordinator.setTargets(nextTargets, next.healthCheck);
      for (const pools of allPools) pools.retain(nextTargets);
      config = next;
      connectionLimits.settings = next.limits;
      applyWebConfig();
      logger.info({ file: flags.configFile, targets: nextTargets.length, mode }, 'configuration reloaded');
    },
    logger,
    metrics,
  });
  const reload = (): Promise<void> => reloader.reload();

  const server = web.createServer(connectionLimits.guard(web.handler(flags.routePrefix, createRouter({
      proxy,
      routing,
      discovery: () => coordinator.discovery(),
      membership,
      client,
      metrics,
      logger,
      flags,
      build: { version: VERSION, nodejs: process.version },
      startTime: new Date(),
      readTimeoutMs: () => config.upstream.responseTimeoutMs,
      reload,
      quit: () => void shutdown('quit'),
      shards: () => coordinator.shards(),
      drain: coordinator.rebalancing ? (t, on) => coordinator.drain(t, on) : undefined,
      shuttingDown: () => shuttingDown,
      groups: {
        list: async (selectors) => {
          const listing = await listSelected(groupDeletes, selectors);
          return { data: describeListing(groupDeletes, listing), warnings: listing.warnings };
        },
        delete: (selectors) => deleteSelected(groupDeletes, selectors),
      },
      expiry: (key) => expiry.describe(key),
    }))),
  );
  connectionLimits.attach(server);
  server.on('clientError', answerClientError);
  server.keepAliveTimeout = 65_000;
  server.requestTimeout = 60_000;

  const { host, port } = splitListenAddress(flags.listenAddress ?? config.listenAddress ?? ':9292');
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
  } catch (err) {
    logger.error({ err: errorMessage(err), address: `${host ?? ''}:${port}` }, 'cannot listen');
    membership.stop();
    await fleet?.stop();
    return 1;
  }
  const address = server.address();
  logger.info(
    { version: VERSION, address: typeof address === 'object' && address ? `${address.address}:${address.port}` : String(address), mode, shards: targets.length, healthy: routing().ring.members.length },
    'shardgate listening',
  );

  let resolveExit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((r) => (resolveExit = r));
  async function shutdown(signal: string): Promise<void> {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    membership.stop();
    coordinator.stop();
    expiry.stop();
    const closed = new Promise<void>((r) => server.close(() => r()));
    const idle = setInterval(() => server.closeIdleConnections(), 100);
    const force = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
    await closed;
    clearInterval(idle);
    clearTimeout(force);
    await Promise.all(allPools.map((pools) => pools.close()));
    await fleet?.stop();
    logger.info('shardgate stopped');
    resolveExit(0);
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGHUP', () => void reload().catch(() => undefined));
  return exited;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`shardgate: fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
