/**
 * The harness's ONLY contact with shardgate's code: builds the real
 * Coordinator (rebalancer, routing, drains, discovery), PushRouter (locks,
 * routing, DELETE fan-out) and HealthCheckedTargets, wired as main.ts wires
 * them, on the simulated clock and network. When the rebalancing protocol
 * changes, adapt this file and nothing else.
 */
import { type Clock } from '../../src/time/clock.js';
import { type ShardClient } from '../../src/upstream/shard-client.js';
import { type GroupingKey, groupId, shardKey } from '../../src/groupingkey/grouping-key.js';
import { HealthCheckedTargets, type HealthCheckSettings } from '../../src/membership/health-checked-targets.js';
import { Coordinator } from '../../src/rebalance/coordinator.js';
import { type RebalanceSettings } from '../../src/rebalance/rebalancer.js';
import { GroupLocks } from '../../src/rebalance/group-locks.js';
import { PushRouter } from '../../src/proxy/push-router.js';
import { ShardgateError } from '../../src/http/errors.js';
import { PushgatewayHttpError } from '../../src/upstream/pushgateway-client.js';
import { pino } from 'pino';
import { type Logger } from '../../src/telemetry/logger.js';
import { Metrics } from '../../src/telemetry/metrics.js';
import { SimNetworkError } from './sim-network.js';
import { Reloader } from '../../src/config/reloader.js';
import { ConfigError, defaultConfig } from '../../src/config/load-config.js';
import { SourcedTargets } from '../../src/membership/sourced-targets.js';
import { fleetControl } from '../../src/membership/fleet-control.js';
import { SimSource } from './sim-source.js';
import { type Prng } from './prng.js';
import { deleteSelected, type BulkDeleteResult } from '../../src/expiry/bulk-delete.js';
import { type DeleteObserver } from '../../src/expiry/delete-if-unchanged.js';
import { parseSelector } from '../../src/expiry/selector.js';
import { type CoordinationBackend } from '../../src/replicas/coordination-backend.js';
import { ReplicaNode } from '../../src/replicas/replica-node.js';
import { ReplicaGate, type WriteRoute } from '../../src/replicas/replica-gate.js';
import { ReplicaMetrics } from '../../src/replicas/replica-metrics.js';
import { FenceLostError, fencedShardClient } from '../../src/replicas/fenced-shard-client.js';
import { type RoutingTable } from '../../src/proxy/push-target.js';
import { Registry } from 'prom-client';

export interface SutOptions {
  readonly clock: Clock;
  readonly targets: readonly string[];
  /** The rebalancer's and reads' client (main.ts: the control pools). */
  readonly client: ShardClient;
  /** Health checks' client (main.ts: the health pools). */
  readonly healthClient: ShardClient;
  /** One client request forwarded to a shard (main.ts: the push pools), resolving with its status. */
  readonly forward: (target: string, method: 'PUT' | 'POST' | 'DELETE', path: string, body: string) => Promise<number>;
  readonly health: HealthCheckSettings;
  readonly rebalance: RebalanceSettings;
  /** The rebalancer's deadline per upstream call (main.ts: max(response timeout, 30 s)). */
  readonly rebalanceTimeoutMs: number;
  /** Receives shardgate's warnings and errors (one JSON line each), for the trace. */
  readonly log: (line: string) => void;
  /**
   * Targets come from a misbehaving membership source (sim-source.ts) through
   * the source glue, as main.ts wires a dynamic source; reloads tell the
   * source. Off: the static list and reloads, as before.
   */
  readonly source?: { readonly prng: Prng; readonly removeAfterMs: number; readonly maxRemovalRatio: number };
}

/** How a client push ended, as the reference model needs it. */
export type PushOutcome = 'ack' | 'refused' | 'rejected' | 'in-doubt';

export interface SystemUnderTest {
  /** main.ts's start-up: first health checks, first round, then sweeping. */
  boot(): Promise<void>;
  push(method: 'PUT' | 'POST' | 'DELETE', key: GroupingKey, body: string): Promise<PushOutcome>;
  /**
   * DELETE /api/v1/groups?match[]=`selector` (bulk delete, as main.ts wires it) through `client`;
   * `deleted` hears of each group's delete on its push target (acknowledged or not), in order.
   */
  bulkDelete(selector: string, client: ShardClient, deleted: (id: string, key: GroupingKey, target: string, acknowledged: boolean) => void): Promise<BulkDeleteResult>;
  /** A config reload with a new target list; false (and nothing changes) when refused. */
  reloadTargets(next: readonly string[]): Promise<boolean>;
  /** Admin drain on/off; false when refused. */
  drain(target: string, on: boolean): boolean;
  checkAll(): Promise<void>;
  /** Where a group is routed now (override or ring owner). */
  routeOf(key: GroupingKey): string | undefined;
  /** Owner of the group on the published ring. */
  ringOwner(key: GroupingKey): string | undefined;
  publishedMembers(): readonly string[];
  overrideCount(): number;
  /** Members membership wants (healthy, configured, not draining). */
  desiredMembers(): readonly string[];
  configured(): readonly string[];
  /** Targets Prometheus is told to scrape. */
  discovery(): readonly string[];
  drainState(target: string): 'draining' | 'drained' | null;
  health(target: string): string | undefined;
  /** The rebalancer holds this group's exclusive lock (a move or delete in progress). */
  moving(id: string): boolean;
  locksHeld(): number;
  idle(): Promise<void>;
  stop(): void;
}

let sharedMetrics: Metrics | undefined;
let sharedReplicaMetrics: ReplicaMetrics | undefined;

function replicaMetrics(): ReplicaMetrics {
  sharedReplicaMetrics ??= new ReplicaMetrics(new Registry());
  return sharedReplicaMetrics;
}

/**
 * One registry for every schedule of a process: it never affects behaviour,
 * and collectDefaultMetrics is not free. The logger writes warnings and
 * errors (a failed round, say) to the trace, without time stamps so the
 * trace stays deterministic.
 */
function telemetry(log: (line: string) => void): { logger: Logger; metrics: Metrics } {
  sharedMetrics ??= new Metrics('sim');
  const logger = pino({ level: 'warn', base: undefined, timestamp: false }, { write: (line: string) => log(withoutWallClock(line)) });
  return { logger, metrics: sharedMetrics };
}

/** One replica's part in a replicated system (replicated-system.ts): its session backend and its fault hooks. */
export interface ReplicaOptions {
  readonly id: string;
  readonly backend: CoordinationBackend;
  readonly pollMs: number;
  readonly maxWriteDelayMs: number;
  /** A background write passed the write fence (for the "one writing leader" check). */
  readonly onLeaderWrite: (what: string) => void;
  /** A background write the fence refused (it may leave two copies until a later round, like a failed one). */
  readonly onRefused: (target: string, path: string) => void;
}

/** One shardgate process: SystemUnderTest plus what a replicated harness needs of it. */
export interface Stack extends SystemUnderTest {
  readonly node: ReplicaNode | undefined;
  readonly coordinator: Coordinator;
  readonly locks: GroupLocks;
  /** What the gate decides for a write reaching this replica. */
  routeWrite(method: 'PUT' | 'POST' | 'DELETE', forwarded: boolean): WriteRoute;
}

export function buildSystem(o: SutOptions): SystemUnderTest {
  return buildStack(o);
}

export function buildStack(o: SutOptions, replica?: ReplicaOptions): Stack {
  const { logger, metrics } = telemetry(o.log);
  const locks = new GroupLocks();
  let node: ReplicaNode | undefined;
  // As main.ts: the leader's background writes pass the write fence at the last moment.
  const client: ShardClient =
    replica === undefined
      ? o.client
      : refusalsReported(
          fencedShardClient(
            o.client,
            () => {
              const held = node?.fence.held() ?? false;
              if (held) replica.onLeaderWrite(replica.id);
              return held;
            },
            () => coordinator.durable(),
          ),
          replica.onRefused,
        );
  const membership: HealthCheckedTargets = new HealthCheckedTargets({
    targets: o.targets,
    settings: o.health,
    probe: (t, ms) => o.healthClient.checkHealthy(t, ms),
    logger,
    metrics,
    onRecovering: (t) => coordinator.shardRecovering(t),
    clock: o.clock,
  });
  let glue: SourcedTargets | undefined;
  if (replica !== undefined) {
    node = new ReplicaNode({
      backend: replica.backend,
      self: { id: replica.id, url: `sim://${replica.id}` },
      clock: o.clock,
      logger,
      metrics: replicaMetrics(),
      pollMs: replica.pollMs,
      maxWriteDelayMs: replica.maxWriteDelayMs,
      notReadyAfterMs: 30_000,
      directAllowed: true,
      coordinator: {
        takeOver: (state) => coordinator.takeOver(state),
        stepDown: () => coordinator.stepDown(),
        takenOver: () => coordinator.takenOver(),
        publishedState: () => coordinator.publishedState(),
        routing: () => coordinator.routing(),
        discovery: () => coordinator.discovery(),
      },
    });
  }
  const table = (): RoutingTable => node?.routing() ?? coordinator.routing();
  const coordinator: Coordinator = new Coordinator(
    {
      client,
      clock: o.clock,
      locks,
      logger,
      metrics,
      membership,
      timeoutMs: o.rebalanceTimeoutMs,
      completeInDoubt: () => router.completeInDoubt(),
      wallNow: () => o.clock.now(),
      ...(o.source ? { onDiscoveryChange: () => void glue?.reconcile() } : {}),
      ...(node === undefined ? {} : { fence: node.fence }),
    },
    { ...o.rebalance, enabled: true },
  );
  const source = o.source ? new SimSource(o.clock, o.source.prng, o.targets, o.log) : undefined;
  if (o.source) {
    glue = new SourcedTargets({ fleet: fleetControl(coordinator, membership), clock: o.clock, logger, metrics, initial: o.targets, guard: o.source, health: o.health, tickMs: o.health.intervalMs });
    membership.onChange(() => void glue?.reconcile());
  }
  const router = new PushRouter({
    locks,
    routing: table,
    observer: coordinator,
    ...(node === undefined ? {} : { localWrites: node.writes, configured: (t: string) => membership.statuses().some((s) => s.target === t) }),
    deleteOn: async (target, path) => {
      const status = await o.forward(target, 'DELETE', path, '');
      if (status < 200 || status >= 300) throw new PushgatewayHttpError(target, status, 'delete fan-out');
    },
    // As PushProxy: a timeout or a reset after sending leaves the write in doubt.
    inDoubt: (err) => err instanceof SimNetworkError && err.code !== 'ECONNREFUSED',
  });
  // The real reload path: validated in full, then applied, one at a time.
  // Target lists of the reloads asked for, in order: the reloader reads them one at a time.
  const asked: Array<readonly string[]> = [];
  const reloader = new Reloader({
    file: 'simulation',
    read: async () => ({ ...defaultConfig(), targets: asked.shift() ?? [] }),
    validate: (next) => {
      if (next.targets.length === 0) throw new ConfigError('no pushgateway targets configured');
    },
    apply: (next) => coordinator.setTargets(next.targets, o.health),
    logger,
    metrics,
  });
  const status = (t: string): ReturnType<typeof membership.statuses>[number] | undefined => membership.statuses().find((s) => s.target === t);

  return {
    node,
    coordinator,
    locks,
    routeWrite(method, forwarded) {
      if (node === undefined) return { kind: 'local' };
      return new ReplicaGate({ session: node.session, mayPushDirectly: () => node.mayWrite(), forward: undefined as never, metrics: node.metrics }).route(method, '/metrics/job/sim', forwarded ? 'sim' : undefined);
    },
    async boot() {
      await membership.start();
      if (glue && source) await glue.start(source);
      await node?.start();
      await coordinator.idle();
      coordinator.startSweeping();
    },
    async push(method, key, body) {
      try {
        // As PushProxy with a buffered body: the router may send it again to complete it.
        const resend = async (target: string, path: string): Promise<{ statusCode: number }> => {
          try {
            return { statusCode: await o.forward(target, method, path, body) };
          } catch (err) {
            if (err instanceof PushgatewayHttpError) return { statusCode: err.status };
            throw err;
          }
        };
        const answer = await router.route(
          method,
          key,
          async (target, path) => {
            try {
              return { statusCode: await o.forward(target, method, path, body) };
            } catch (err) {
              // As PushProxy: a shard that cannot be reached is re-checked at once.
              if (err instanceof SimNetworkError && err.code !== 'UND_ERR_HEADERS_TIMEOUT') void membership.checkNow(target);
              throw err;
            }
          },
          method === 'DELETE' ? undefined : { resend, bytes: body.length },
        );
        if (answer.statusCode >= 200 && answer.statusCode < 300) return 'ack';
        return answer.statusCode >= 500 ? 'in-doubt' : 'rejected';
      } catch (err) {
        return outcomeOf(err);
      }
    },
    bulkDelete(selector, client, deleted) {
      const observer: DeleteObserver = {
        writeBegins: (id, key, target) => coordinator.writeBegins(id, key, target),
        writeEnds: (id, key, target, method, acknowledged) => {
          coordinator.writeEnds(id, key, target, method, acknowledged);
          deleted(id, key, target, acknowledged);
        },
        deleteFanOut: (target) => coordinator.deleteFanOut(target),
        deleteMissed: (id, shard) => coordinator.deleteMissed(id, shard),
        inDoubt: (id) => coordinator.inDoubt(id),
        lastClientPush: (id) => coordinator.lastClientPush(id),
      };
      const shards = () => membership.statuses().filter((s) => s.health === 'up').map((s) => s.target);
      return deleteSelected({ locks, routing: table, client, observer, timeoutMs: o.rebalanceTimeoutMs, shards }, [parseSelector(selector)]);
    },
    async reloadTargets(next) {
      if (source) {
        // The source is told; an empty list is an empty answer, which the glue ignores (refused).
        if (next.length === 0) source.empty();
        else source.tell(next);
        await glue?.settled();
        return next.length > 0;
      }
      asked.push(next);
      return reloader.reload().then(
        () => true,
        () => false,
      );
    },
    // The admin drain, through the same narrow control the source glue uses.
    drain: (target, on) => fleetControl(coordinator, membership).drain(target, on),
    checkAll: () => membership.checkAll(),
    routeOf(key) {
      const { ring, overrides } = table();
      return overrides.get(groupId(key)) ?? ring.owner(shardKey(key));
    },
    ringOwner: (key) => coordinator.routing().ring.owner(shardKey(key)),
    publishedMembers: () => coordinator.routing().ring.members,
    overrideCount: () => coordinator.routing().overrides.size,
    desiredMembers: () => coordinator.wantedMembers(),
    configured: () => membership.statuses().map((s) => s.target),
    discovery: () => coordinator.discovery().flatMap((g) => g.targets),
    drainState: (t) => coordinator.drainState(t)?.state ?? null,
    health: (t) => status(t)?.health,
    moving: (id) => locks.isExclusive(id),
    locksHeld: () => locks.size,
    idle: () => coordinator.idle(),
    stop() {
      glue?.stop();
      membership.stop();
      coordinator.stop();
      void node?.stop();
    },
  };
}

/** Tells `onRefused` of every write the write fence refused. */
function refusalsReported(client: ShardClient, onRefused: (target: string, path: string) => void): ShardClient {
  const report = (target: string, path: string) => (err: unknown) => {
    if (err instanceof FenceLostError) onRefused(target, path);
    throw err;
  };
  return {
    checkHealthy: (t, ms) => client.checkHealthy(t, ms),
    listGroups: (t, ms) => client.listGroups(t, ms),
    push: (t, m, p, b, ms) => client.push(t, m, p, b, ms).catch(report(t, p)),
    delete: (t, p, ms) => client.delete(t, p, ms).catch(report(t, p)),
  };
}

/** The rebalancer measures durations with performance.now() (wall clock): keep them out of the trace. */
function withoutWallClock(line: string): string {
  return line.trimEnd().replace(/"duration_seconds":[0-9.e-]+,?/g, '').replace(/,?"leader_until":"[^"]*"/g, '');
}

function outcomeOf(err: unknown): PushOutcome {
  // 503 no healthy shard, connection refused: nothing was sent (unless the error says the write may have landed).
  if (err instanceof ShardgateError) return err.inDoubt ? 'in-doubt' : 'refused';
  if (err instanceof SimNetworkError) return err.code === 'ECONNREFUSED' ? 'refused' : 'in-doubt';
  if (err instanceof PushgatewayHttpError) return err.status >= 500 ? 'in-doubt' : 'rejected';
  throw err;
}
