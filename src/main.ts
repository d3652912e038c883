#!/usr/bin/env node
/**
 * The one place that reads argv, the config file and signals, and wires the
 * pieces together: membership → ring → proxy → HTTP server (and, with
 * `local`, the pushgateway fleet underneath).
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseFlags, splitListenAddress, USAGE, type Flags } from './cli/flags.js';
import { loadConfigFile, defaultConfig, ConfigError } from './config/load-config.js';
import { type Config, type ConsistencyCheck } from './config/config.js';
import { createLogger } from './telemetry/logger.js';
import { Metrics } from './telemetry/metrics.js';
import { UpstreamPools } from './upstream/upstream-pools.js';
import { PushgatewayClient } from './upstream/pushgateway-client.js';
import { HealthCheckedTargets } from './membership/health-checked-targets.js';
import { PushProxy, type Routing } from './proxy/push-proxy.js';
import { GatewayCheck } from './proxy/gateway-check.js';
import { IndexSync } from './index/index-sync.js';
import { PushRouter } from './proxy/push-router.js';
import { systemClock } from './time/clock.js';
import { createRouter } from './http/router.js';
import { ConnectionLimits } from './http/connection-limits.js';
import { answerClientError } from './http/client-error.js';
import { SdFileWriter } from './discovery/sd-file-writer.js';
import { findPushgatewayBinary } from './local/pushgateway-binary.js';
import { errorMessage } from './upstream/upstream-error.js';
import { LocalFleet } from './local/local-fleet.js';
import { LocalReplicas } from './local/local-replicas.js';
import { GroupLocks } from './rebalance/group-locks.js';
import { Coordinator } from './rebalance/coordinator.js';
import { SourcedTargets } from './membership/sourced-targets.js';
import { fleetControl } from './membership/fleet-control.js';
import { createSource } from './membership/sources/create-source.js';
import { StaticSource } from './membership/sources/static-source.js';
import { type MembershipSource } from './membership/source.js';
import { Reloader } from './config/reloader.js';
import { RegistrationControl } from './consul/consul-registration.js';
import { followsRegistration } from './config/consul-kubernetes-config.js';
import { WebServer } from './web/web-server.js';
import { ShardgateError } from './http/errors.js';
import { join } from 'node:path';
import { exchange } from './upstream/exchange.js';
import { type GroupingKey } from './groupingkey/grouping-key.js';
import { StandbyWriter } from './replication/standby-writer.js';
import { StandbyRestore } from './replication/standby-restore.js';
import { StandbyRepair } from './replication/standby-repair.js';
import { ExpirySweeper } from './expiry/expiry-sweeper.js';
import { describeListing, deleteSelected, listSelected, type BulkDeps } from './expiry/bulk-delete.js';
import { hostname } from 'node:os';
import { ReplicaNode } from './replicas/replica-node.js';
import { ReplicaGate } from './replicas/replica-gate.js';
import { LeaderForward } from './replicas/leader-forward.js';
import { ReplicaMetrics } from './replicas/replica-metrics.js';
import { createBackend } from './replicas/create-backend.js';
import { fencedShardClient } from './replicas/fenced-shard-client.js';
import { type RoutingTable } from './proxy/push-target.js';
import { type SdTargetGroup } from './discovery/http-sd.js';

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

  const { host, port } = splitListenAddress(flags.listenAddress ?? config.listenAddress ?? ':9292');
  // Fixed at start-up. `shardgate local` defaults to the check at the gateway, its pushgateways to none.
  const consistencyCheck = config.push.consistencyCheck ?? (flags.command === 'local' ? 'gateway' : 'shard');
  let fleet: LocalFleet | undefined;
  let localReplicas: LocalReplicas | undefined;
  let standbyFleet: LocalFleet | undefined;
  let targets = config.targets;
  // Replication (src/replication/): off unless the config turns it on or `local --standby` starts standbys.
  let standbyTargets = config.replication?.standbyTargets;
  if (flags.command === 'local') {
    let binary: string;
    try {
      binary = findPushgatewayBinary(flags.pushgatewayBinary);
    } catch (err) {
      logger.error({ err: errorMessage(err) }, 'cannot start the local fleet');
      return 1;
    }
    if (config.targets.length > 0) logger.warn({ targets: config.targets.join(',') }, 'local mode routes to its own fleet; the targets in the config file are ignored');
    fleet = new LocalFleet({ shards: flags.shards, dataDir: flags.dataDir, binary, extraArgs: localPushgatewayArgs(flags.pushgatewayArgs, consistencyCheck), logger: logger.child({ component: 'fleet' }) });
    // `--standby`: a second fleet of the same size, in its own data dir, never a member (so never in discovery).
    if (flags.standby) standbyFleet = new LocalFleet({ shards: flags.shards, dataDir: join(flags.dataDir, 'standby'), binary, extraArgs: localPushgatewayArgs(flags.pushgatewayArgs, consistencyCheck), logger: logger.child({ component: 'standby-fleet' }) });
    try {
      targets = await fleet.start();
      if (standbyFleet !== undefined) standbyTargets = await standbyFleet.start();
    } catch (err) {
      logger.error({ err: errorMessage(err) }, 'local fleet failed to start');
      await Promise.all([fleet.stop(), standbyFleet?.stop()]);
      return 1;
    }
    if (flags.replicas > 1) {
      // This process is replica 1; the others start once it listens (startChildren below).
      localReplicas = new LocalReplicas({
        count: flags.replicas,
        dataDir: flags.dataDir,
        host: host ?? '',
        port,
        routePrefix: flags.routePrefix,
        consistencyCheck,
        childFlags: childFlags(flags),
        logger: logger.child({ component: 'replicas' }),
      });
      try {
        config = { ...config, replicas: await localReplicas.startEtcd() };
      } catch (err) {
        logger.error({ err: errorMessage(err) }, 'cannot start the local replicas');
        await localReplicas.stop();
        await fleet.stop();
        return 1;
      }
    }
  } else if (config.membership.source.kind === 'static' && targets.length === 0) {
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
  // A dynamic source's targets arrive with its first answer (sourced below),
  // except that targets registered in Consul seed the membership that reads them back.
  const dynamic = fleet === undefined && config.membership.source.kind !== 'static';
  if (dynamic && !followsRegistration(config)) targets = [];
  const membership = new HealthCheckedTargets({
    targets,
    settings: config.healthCheck,
    probe: (t, ms) => healthClient.checkHealthy(t, ms),
    logger: logger.child({ component: 'membership' }),
    metrics,
    onRecovering: (t) => coordinator.shardRecovering(t),
  });

  // Several replicas (replicas/, docs/replicas.md): one session in the coordination store; the leader decides and rebalances.
  let replica: ReplicaNode | undefined;
  if (config.replicas !== undefined) {
    const r = config.replicas;
    const id = r.id ?? `${hostname()}:${port}`;
    try {
      replica = new ReplicaNode({
        backend: createBackend(r.backend, r.leaseTtlMs),
        self: { id, url: r.advertiseUrl ?? `${web.scheme}://${host !== undefined && host !== '' && host !== '0.0.0.0' && host !== '::' ? host : hostname()}:${port}${flags.routePrefix}` },
        clock: systemClock,
        logger: logger.child({ component: 'replicas' }),
        metrics: new ReplicaMetrics(metrics.registry),
        pollMs: r.pollIntervalMs,
        maxWriteDelayMs: config.upstream.connectTimeoutMs + config.upstream.responseTimeoutMs,
        notReadyAfterMs: r.notReadyAfterMs,
        // Gateway mode: the leader's index is the one that sees every push; followers forward them all.
        directAllowed: consistencyCheck !== 'gateway',
        coordinator: {
          takeOver: (state) => coordinator.takeOver(state),
          stepDown: () => coordinator.stepDown(),
          takenOver: () => coordinator.takenOver(),
          publishedState: () => coordinator.publishedState(),
          routing: () => coordinator.routing(),
          discovery: () => coordinator.discovery(),
        },
        onAdopt: () => writeSdFile(),
      });
    } catch (err) {
      logger.error({ err: errorMessage(err) }, 'cannot set up the coordination backend');
      return 1;
    }
  }
  /** Where pushes go: this process's coordinator, or (a follower) the ring the leader published. */
  const table = (): RoutingTable => (replica === undefined ? coordinator.routing() : replica.routing());
  const discovery = (): readonly SdTargetGroup[] => (replica === undefined ? coordinator.discovery() : replica.discovery());
  // The leader's background writes are refused the moment it stops holding the write fence.
  const backgroundClient = replica === undefined ? client : fencedShardClient(client, () => replica.fence.held(), () => coordinator.durable());

  const sdFile = flags.sdFile ? new SdFileWriter(flags.sdFile) : undefined;
  const writeSdFile = (): void => {
    sdFile?.write(discovery()).catch((err: unknown) => logger.error({ err: errorMessage(err), file: flags.sdFile }, 'cannot write sd file'));
  };
  const publishDiscovery = (): void => {
    // A drain that ended may let the source glue drop its target.
    void sourced.reconcile();
    writeSdFile();
  };
  const locks = new GroupLocks();
  const coordinator: Coordinator = new Coordinator(
    {
      client: backgroundClient,
      clock: systemClock,
      locks,
      logger: logger.child({ component: 'rebalance' }),
      metrics,
      membership,
      timeoutMs: Math.max(config.upstream.responseTimeoutMs, 30_000),
      onDiscoveryChange: publishDiscovery,
      completeInDoubt: () => router.completeInDoubt(),
      sourceLabels: (t) => sourced.labelsOf(t),
      ...(replica === undefined ? {} : { fence: replica.fence }),
      onMemberLost: (member, ringBefore) => void restore?.restore(member, ringBefore),
    },
    config.rebalance,
  );
  // Which targets are configured: the static list, or what a membership source lists (with its guard rules).
  const control = fleetControl(coordinator, membership);
  const sourced: SourcedTargets = new SourcedTargets({
    fleet: {
      ...control,
      setTargets: async (next, health, forgetRemoved) => {
        await control.setTargets(next, health, forgetRemoved);
        for (const pools of allPools) pools.retain(next);
      },
    },
    clock: systemClock,
    logger: logger.child({ component: 'membership' }),
    metrics,
    initial: targets,
    guard: config.membership,
    health: config.healthCheck,
    tickMs: config.healthCheck.intervalMs,
    onLabelsChange: () => coordinator.labelsChanged(),
  });
  membership.onChange(() => void sourced.reconcile());
  const sourceOf = (c: Config): MembershipSource => (fleet !== undefined ? new StaticSource(targets) : createSource(c.membership.source, c.targets));
  let mode = flags.mode ?? config.mode;
  let routingView: Routing = { ...table(), mode };
  /** The routing with the mode, rebuilt only when either changed. */
  const routing = (): Routing => {
    const current = table();
    if (current.ring !== routingView.ring || current.overrides !== routingView.overrides || mode !== routingView.mode) routingView = { ...current, mode };
    return routingView;
  };
  const router = new PushRouter({
    locks,
    routing: table,
    observer: coordinator,
    deleteOn: (target, path) => client.delete(target, path, config.upstream.responseTimeoutMs),
    inDoubt: (err) => err instanceof ShardgateError && err.inDoubt,
    ...(replica === undefined ? {} : { localWrites: replica.writes, configured: (t: string) => membership.statuses().some((s) => s.target === t) }),
  });
  // Gateway mode's index (set below); declared here because the restore's hook reads it.
  let indexSync: IndexSync | undefined;
  // Replication: the standby write on the push path, the restore when a member dies (src/replication/).
  let standby: StandbyWriter | undefined;
  let restore: StandbyRestore | undefined;
  let repair: StandbyRepair | undefined;
  if (standbyTargets !== undefined) {
    const standbys = standbyTargets;
    if (standbys.length === 0) logger.warn('replication is on but no standby_targets are configured: every push gets 503');
    // Own pools: the membership's retain() would close pools of targets that are not members.
    const standbyPools = new UpstreamPools(config.upstream);
    allPools.push(standbyPools);
    const writer = new StandbyWriter({
      standbys: () => standbys,
      send: (target, method, path, body, headers) => exchange(standbyPools.get(target), { method, path, headers, body }),
      metrics,
    });
    standby = writer;
    restore = new StandbyRestore({
      standbys: () => standbys,
      client: new PushgatewayClient(standbyPools),
      locks,
      routing: () => coordinator.routing(),
      observer: coordinator,
      writer,
      metrics,
      logger: logger.child({ component: 'replication' }),
      timeoutMs: Math.max(config.upstream.responseTimeoutMs, 30_000),
      // Gateway mode: the restored groups are on shards the index has not read since.
      onRestored: () => void indexSync?.resync(),
    });
    // Each rebalance sweep interval: a group's first standby is made equal to its shard's copy (standby-repair.ts).
    repair = new StandbyRepair({
      standbys: () => standbys,
      shards: () => membership.statuses().filter((st) => st.health === 'up').map((st) => st.target),
      client: new PushgatewayClient(standbyPools),
      locks,
      routing: () => coordinator.routing(),
      observer: coordinator,
      writer,
      clock: systemClock,
      logger: logger.child({ component: 'replication' }),
      metrics,
      timeoutMs: Math.max(config.upstream.responseTimeoutMs, 30_000),
      intervalMs: () => config.rebalance.sweepIntervalMs,
    });
    logger.info({ standbys: standbys.join(',') || '(none)' }, 'replication on');
  }
  // dynamic-sharding's consul_server: register the targets before a Consul source reads them back.
  const registration = new RegistrationControl(logger.child({ component: 'consul' }));
  if (fleet === undefined) await registration.apply(config);
  else if (config.consulServer !== undefined) logger.warn('local mode: consul_server is ignored (the local fleet is not registered in Consul)');
  // Expiry and bulk delete: delete-if-unchanged under the group locks, reported to the coordinator like client DELETEs.
  const groupDeletes: BulkDeps = {
    locks,
    routing: table,
    client: backgroundClient,
    // With several replicas, followers' direct pushes never reach this coordinator: ages run from push_time_seconds.
    observer: replica === undefined ? coordinator : withoutClientPushTimes(coordinator),
    ...(replica === undefined ? {} : { beforeWrites: () => replica.fence.acquire() }),
    timeoutMs: Math.max(config.upstream.responseTimeoutMs, 30_000),
    shards: () => membership.statuses().filter((s) => s.health === 'up').map((s) => s.target),
    // A deleted group must not come back from its standby.
    ...(standby === undefined ? {} : { deleteStandby: (key: GroupingKey, path: string) => standby.mirror('DELETE', key, path, null, {}) }),
  };
  const expiry = new ExpirySweeper({
    ...groupDeletes,
    settings: () => config.expiry,
    clock: systemClock,
    wallNow: Date.now,
    logger: logger.child({ component: 'expiry' }),
    metrics,
    ...(replica === undefined ? {} : { active: () => replica.leading() }),
  });
  await membership.start();
  await sourced.start(sourceOf(config));
  // The first tick finds the leader (or becomes it, and takes over the published ring).
  await replica?.start();
  await coordinator.idle();
  coordinator.startSweeping();
  expiry.start();
  repair?.start();
  publishDiscovery();
  if (replica === undefined && routing().ring.members.length === 0) logger.warn({ targets: membership.statuses().map((s) => s.target).join(',') }, 'no pushgateway is healthy yet: pushes get 503 until one is');

  // Gateway mode: one index of the whole fleet's store, checked on every push (index/, proxy/gateway-check.ts).
  if (consistencyCheck === 'gateway') {
    const sync = new IndexSync({
      shards: () => membership.statuses().flatMap((s) => (s.health === 'up' ? [s.target] : [])),
      listGroups: (t) => client.listGroups(t, Math.max(config.upstream.responseTimeoutMs, 30_000)),
      logger: logger.child({ component: 'index' }),
      intervalMs: config.push.indexResyncIntervalMs,
    });
    await sync.ready;
    sync.start();
    // A shard that (re)joins may hold groups the index does not know (restarted from its persistence file, or written directly).
    membership.onChange((before, after) => {
      if (after.some((t) => !before.includes(t))) void sync.resync();
    });
    indexSync = sync;
    if (mode === 'redirect') logger.warn('push.consistency_check is gateway but mode is redirect: redirected clients push to the shards directly, unchecked');
  }


  const proxy = new PushProxy({
    pools: pushPools,
    metrics,
    router,
    routing,
    maxBodyBytes: () => config.limits.maxBodyBytes,
    onUnreachable: (t) => void membership.checkNow(t),
    ...(indexSync === undefined ? {} : { gateway: new GatewayCheck(indexSync) }),
    ...(standby === undefined ? {} : { standby }),
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
      if (fleet === undefined && next.membership.source.kind === 'static' && next.targets.length === 0) throw new ConfigError('no pushgateway targets configured');
    },
    apply: async (next) => {
      for (const pools of allPools) pools.reconfigure(next.upstream);
      mode = flags.mode ?? next.mode;
      coordinator.settings = next.rebalance;
      if (next.push.consistencyCheck !== config.push.consistencyCheck) logger.warn('push.consistency_check changed: takes effect on restart');
      if (next.rebalance.enabled !== config.rebalance.enabled) logger.warn('rebalance.enabled changed: takes effect on restart');
      if (next.listenAddress !== config.listenAddress && flags.listenAddress === undefined) logger.warn('listen_address changed: takes effect on restart');
      // The static list is applied as it always was; a dynamic source keeps running unless its settings changed.
      const keepSource = fleet !== undefined || (next.membership.source.kind !== 'static' && JSON.stringify(next.membership.source) === JSON.stringify(config.membership.source));
      if (fleet === undefined) await registration.apply(next);
      await sourced.reconfigure(keepSource ? undefined : sourceOf(next), next.membership, next.healthCheck);
      const nextTargets = membership.statuses().map((s) => s.target);
      config = next;
      connectionLimits.settings = next.limits;
      applyWebConfig();
      logger.info({ file: flags.configFile, targets: nextTargets.length, mode }, 'configuration reloaded');
    },
    logger,
    metrics,
  });
  const reload = (): Promise<void> => reloader.reload();

  const api = createRouter({
      proxy,
      routing,
      discovery,
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
      source: sourced,
      drain: coordinator.rebalancing
        ? async (t, on) => {
            const state = coordinator.drain(t, on);
            // Several replicas: answered once the drain is stored, so it outlives this leader.
            if (replica !== undefined && state !== undefined) {
              await replica.fence.flush().catch((err: unknown) => {
                throw new ShardgateError('SHARDGATE_NO_LEADER', `the drain started on this leader but could not be stored in the coordination store (${errorMessage(err)}); it may not survive a change of leader: retry`);
              });
            }
            return state;
          }
        : undefined,
      shuttingDown: () => shuttingDown,
      afterWipe: () => indexSync?.wiped(),
      groups: {
        list: async (selectors) => {
          const listing = await listSelected(groupDeletes, selectors);
          return { data: describeListing(groupDeletes, listing), warnings: listing.warnings };
        },
        delete: (selectors) => deleteSelected(groupDeletes, selectors),
      },
      expiry: (key) => expiry.describe(key),
      ...(replica === undefined ? {} : { notReady: () => replica.notReady(), replicas: () => replica.status(), discoveryStale: () => replica.staleView() }),
    });
  // Followers forward to the leader what they must not carry out themselves (replicas/replica-gate.ts).
  const forward = replica === undefined ? undefined : new LeaderForward(replica.session.self.id, () => config.upstream.responseTimeoutMs);
  const gate = replica === undefined || forward === undefined ? undefined : new ReplicaGate({ session: replica.session, mayPushDirectly: () => replica.mayWrite(), forward, metrics: replica.metrics });
  const server = web.createServer(connectionLimits.guard(web.handler(flags.routePrefix, gate === undefined ? api : gate.handler(api))));
  connectionLimits.attach(server);
  server.on('clientError', answerClientError);
  server.keepAliveTimeout = 65_000;
  server.requestTimeout = 60_000;

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
  } catch (err) {
    logger.error({ err: errorMessage(err), address: `${host ?? ''}:${port}` }, 'cannot listen');
    await registration.stop();
    sourced.stop();
    membership.stop();
    await Promise.all([fleet?.stop(), standbyFleet?.stop()]);
    return 1;
  }
  try {
    await localReplicas?.startChildren(targets);
  } catch (err) {
    logger.error({ err: errorMessage(err) }, 'the local replicas failed to start');
    void shutdown('local replicas failed');
  }
  const address = server.address();
  logger.info(
    { version: VERSION, address: typeof address === 'object' && address ? `${address.address}:${address.port}` : String(address), mode, source: sourced.kind, shards: membership.statuses().length, healthy: routing().ring.members.length },
    'shardgate listening',
  );

  let resolveExit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((r) => (resolveExit = r));
  async function shutdown(signal: string): Promise<void> {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    sourced.stop();
    membership.stop();
    coordinator.stop();
    // Resigns leadership (another replica takes over at once) and ends the session.
    const replicaStopped = replica?.stop();
    // Registrations stay in Consul; this only ends the resync (awaited below, not before the server closes).
    const registrationStopped = registration.stop();
    indexSync?.stop();
    expiry.stop();
    repair?.stop();
    const closed = new Promise<void>((r) => server.close(() => r()));
    const idle = setInterval(() => server.closeIdleConnections(), 100);
    const force = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
    await closed;
    clearInterval(idle);
    clearTimeout(force);
    await Promise.all([...allPools.map((pools) => pools.close()), registrationStopped, replicaStopped, forward?.close()]);
    await localReplicas?.stop();
    await Promise.all([fleet?.stop(), standbyFleet?.stop()]);
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

/** `--push.disable-consistency-check` unless the pushgateways are to check themselves (`shard`) or the user already passed it. */
function localPushgatewayArgs(args: readonly string[], check: ConsistencyCheck): string[] {
  const off = '--push.disable-consistency-check';
  return check === 'shard' || args.includes(off) ? [...args] : [...args, off];
}

/** Expiry and bulk delete without this process's client-push times (several replicas: they miss followers' pushes). */
function withoutClientPushTimes(coordinator: Coordinator): BulkDeps['observer'] {
  return {
    writeBegins: (id, key, target) => coordinator.writeBegins(id, key, target),
    writeEnds: (id, key, target, method, acknowledged) => coordinator.writeEnds(id, key, target, method, acknowledged),
    deleteFanOut: (target) => coordinator.deleteFanOut(target),
    deleteMissed: (id, shard) => coordinator.deleteMissed(id, shard),
    inDoubt: (id) => coordinator.inDoubt(id),
    lastClientPush: () => undefined,
  };
}

/** The flags `shardgate local --replicas` passes on to the other replicas. */
function childFlags(flags: Flags): string[] {
  const out = [`--log.level=${flags.logLevel}`, `--log.format=${flags.logFormat}`];
  if (flags.enableAdminApi) out.push('--web.enable-admin-api');
  if (flags.enableLifecycle) out.push('--web.enable-lifecycle');
  if (flags.routePrefix !== '') out.push(`--web.route-prefix=${flags.routePrefix}`);
  if (flags.webConfigFile !== undefined) out.push(`--web.config.file=${flags.webConfigFile}`);
  if (flags.mode !== undefined) out.push(`--mode=${flags.mode}`);
  return out;
}
