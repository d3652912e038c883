/**
 * The original dynamic-sharding's other half: every configured pushgateway
 * is registered with the local Consul agent as an instance of one service,
 * with an HTTP check on `/-/healthy`, so a Prometheus `consul_sd_configs` job
 * on that service keeps finding the pushgateways, and Consul's health answers
 * can drive membership.
 *
 * Per the agent API (https://developer.hashicorp.com/consul/api-docs/agent/service):
 *  - `PUT /v1/agent/service/register?replace-existing-checks=true` with ID,
 *    Name, Address, Port, Meta and one HTTP Check (Interval, Timeout): the
 *    register call is idempotent, and replacing checks drops any check an
 *    older registration (dynamic-sharding's) left on the same ID;
 *  - `PUT /v1/agent/service/deregister/<id>` for a target removed from the
 *    config (404 = already gone);
 *  - `GET /v1/agent/services` on every resync: what the agent lost (restart
 *    without its data dir, a reaped critical service) is registered again,
 *    and instances marked as ours whose target left the config while
 *    shardgate was down are deregistered.
 *
 * Decisions, with the original (pkg/sd/sd.go) as the reference:
 *  - Service IDs are the original's `<host>_<port>` (its README's scale-in
 *    runbook deregisters `1.1.1.1_9091`), so shardgate adopts the
 *    registrations dynamic-sharding made instead of duplicating them.
 *  - Check: interval and timeout from `health_check` (defaults 5s/2s, the
 *    original's values). No DeregisterCriticalServiceAfter: the original set
 *    5s (Consul's minimum is 1m) so a pushgateway that recovered stayed
 *    deregistered; shardgate re-admits a recovered pushgateway itself
 *    (after removing its stale copies), so Consul must keep listing it.
 *  - Nothing is deregistered on shutdown (as in the original): the
 *    pushgateways still hold data that Prometheus must keep scraping.
 */
import { type Config } from '../config/config.js';
import { type Logger } from '../telemetry/logger.js';
import { errorMessage } from '../upstream/upstream-error.js';
import { ConsulApi, consulFailure, type ConsulConnection } from './consul-api.js';

export interface RegistrationSettings {
  readonly connection: ConsulConnection;
  readonly serviceName: string;
  readonly check: {
    readonly intervalMs: number;
    readonly timeoutMs: number;
    readonly scheme: 'http' | 'https';
    readonly tlsSkipVerify: boolean;
    /** `Basic …` for pushgateways behind basic auth (Consul's check `Header`). */
    readonly authorization: string | undefined;
  };
  /** How often the agent's state is compared with the config and repaired. */
  readonly resyncIntervalMs: number;
}

/** Meta key marking an instance as registered by shardgate. */
export const MANAGED_BY = { key: 'managed_by', value: 'shardgate' } as const;
const REQUEST_TIMEOUT_MS = 10_000;

export function serviceId(target: string): string {
  const m = /^\[?(.*?)\]?:(\d+)$/.exec(target);
  return m ? `${m[1] ?? ''}_${m[2] ?? ''}` : target;
}

export class ConsulRegistration {
  readonly #settings: RegistrationSettings;
  readonly #api: ConsulApi;
  readonly #logger: Logger;
  #targets: readonly string[] = [];
  #timer: NodeJS.Timeout | undefined;
  #queue: Promise<void> = Promise.resolve();
  #stopped = false;
  #lastError: string | undefined;

  constructor(settings: RegistrationSettings, logger: Logger) {
    this.#settings = settings;
    this.#api = new ConsulApi(settings.connection);
    this.#logger = logger;
  }

  get settings(): RegistrationSettings {
    return this.#settings;
  }

  /**
   * Sets the pushgateways to keep registered and brings the agent in line
   * (register the new, deregister the removed), then resyncs periodically.
   * Resolves when this round is done; failures are logged (once per change
   * of error) and retried on the next resync, never thrown.
   */
  setTargets(targets: readonly string[]): Promise<void> {
    this.#targets = [...targets];
    const round = this.#queue.then(() => this.#sync());
    this.#queue = round;
    if (this.#timer === undefined && !this.#stopped) {
      this.#timer = setInterval(() => {
        this.#queue = this.#queue.then(() => this.#sync());
      }, this.#settings.resyncIntervalMs);
      this.#timer.unref();
    }
    return round;
  }

  /** Stops resyncing; registrations stay in Consul (see the decisions above). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#queue;
    await this.#api.close().catch(() => undefined);
  }

  async #sync(): Promise<void> {
    if (this.#stopped) return;
    try {
      const present = await this.#ourInstances();
      const wanted = new Map(this.#targets.map((t) => [serviceId(t), t]));
      for (const [id, target] of wanted) {
        if (present.get(id) !== 'ours') await this.#register(id, target);
      }
      for (const [id, owner] of present) {
        if (owner === 'ours' && !wanted.has(id)) await this.#deregister(id);
      }
      if (this.#lastError !== undefined) this.#logger.info({ consul: this.#api.baseUrl }, 'consul registration recovered');
      this.#lastError = undefined;
    } catch (err) {
      const msg = errorMessage(err);
      if (msg !== this.#lastError) this.#logger.error({ consul: this.#api.baseUrl, err: msg }, 'consul registration failed; retrying on the next resync');
      this.#lastError = msg;
    }
  }

  /** Instances of our service on the agent: 'ours' when registered by shardgate with our check, else 'other'. */
  async #ourInstances(): Promise<Map<string, 'ours' | 'other'>> {
    const res = await this.#api.call('GET', '/v1/agent/services', { timeoutMs: REQUEST_TIMEOUT_MS });
    if (res.status !== 200) throw new Error(consulFailure('listing agent services', res));
    const body: unknown = JSON.parse(res.text);
    const out = new Map<string, 'ours' | 'other'>();
    if (body === null || typeof body !== 'object') throw new Error('listing agent services: not a JSON object');
    for (const [id, svc] of Object.entries(body)) {
      if (svc === null || typeof svc !== 'object' || svc.Service !== this.#settings.serviceName) continue;
      const meta: unknown = svc.Meta;
      const ours = meta !== null && typeof meta === 'object' && Object.entries(meta).some(([k, v]) => k === MANAGED_BY.key && v === MANAGED_BY.value);
      out.set(id, ours ? 'ours' : 'other');
    }
    return out;
  }

  async #register(id: string, target: string): Promise<void> {
    const { serviceName, check } = this.#settings;
    const m = /^\[?(.*?)\]?:(\d+)$/.exec(target);
    const address = m?.[1] ?? target;
    const port = Number(m?.[2] ?? 0);
    const body = {
      ID: id,
      Name: serviceName,
      Address: address,
      Port: port,
      Meta: { [MANAGED_BY.key]: MANAGED_BY.value },
      Check: {
        Name: `${serviceName} ${target} /-/healthy`,
        HTTP: `${check.scheme}://${target}/-/healthy`,
        Method: 'GET',
        Interval: `${check.intervalMs}ms`,
        Timeout: `${check.timeoutMs}ms`,
        ...(check.scheme === 'https' ? { TLSSkipVerify: check.tlsSkipVerify } : {}),
        ...(check.authorization !== undefined ? { Header: { Authorization: [check.authorization] } } : {}),
      },
    };
    const query = new URLSearchParams({ 'replace-existing-checks': 'true' });
    const res = await this.#api.call('PUT', '/v1/agent/service/register', { query, body, timeoutMs: REQUEST_TIMEOUT_MS });
    if (res.status !== 200) throw new Error(consulFailure(`registering ${id}`, res));
    this.#logger.info({ consul: this.#api.baseUrl, service: serviceName, id, target }, 'registered pushgateway in consul');
  }

  async #deregister(id: string): Promise<void> {
    const res = await this.#api.call('PUT', `/v1/agent/service/deregister/${encodeURIComponent(id)}`, { timeoutMs: REQUEST_TIMEOUT_MS });
    if (res.status !== 200 && res.status !== 404) throw new Error(consulFailure(`deregistering ${id}`, res));
    this.#logger.info({ consul: this.#api.baseUrl, service: this.#settings.serviceName, id }, 'deregistered pushgateway from consul');
  }
}

/** How often the agent is compared with the config (and repaired) between reloads. */
export const RESYNC_INTERVAL_MS = 30_000;

/**
 * The registration settings a config asks for (undefined without
 * `consul_server`): the check probes the pushgateways as shardgate's own
 * health checks do (interval, timeout, scheme, basic auth).
 */
export function registrationSettings(c: Config): RegistrationSettings | undefined {
  if (c.consulServer === undefined) return undefined;
  return {
    connection: c.consulServer.connection,
    serviceName: c.consulServer.serviceName,
    check: {
      intervalMs: c.healthCheck.intervalMs,
      timeoutMs: c.healthCheck.timeoutMs,
      scheme: c.upstream.scheme,
      tlsSkipVerify: c.upstream.tls?.insecureSkipVerify ?? false,
      authorization: c.upstream.authorization,
    },
    resyncIntervalMs: RESYNC_INTERVAL_MS,
  };
}

/**
 * Start-up and reload: keeps one ConsulRegistration in line with the config
 * (a changed Consul address, service or check replaces it; a removed
 * `consul_server` stops it, leaving the registrations, as on shutdown).
 */
export class RegistrationControl {
  readonly #logger: Logger;
  #current: ConsulRegistration | undefined;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  async apply(c: Config): Promise<void> {
    const next = registrationSettings(c);
    if (this.#current && (next === undefined || JSON.stringify(next) !== JSON.stringify(this.#current.settings))) {
      await this.#current.stop();
      this.#current = undefined;
    }
    if (next === undefined) return;
    this.#current ??= new ConsulRegistration(next, this.#logger);
    await this.#current.setTargets(c.targets);
  }

  async stop(): Promise<void> {
    await this.#current?.stop();
    this.#current = undefined;
  }
}
