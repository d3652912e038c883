/**
 * Membership from Consul: the instances of one service whose checks all pass,
 * read with `GET /v1/health/service/<name>?passing` as a blocking query
 * (https://developer.hashicorp.com/consul/api-docs/health#list-service-instances-for-service,
 * https://developer.hashicorp.com/consul/api-docs/features/blocking).
 *
 * The loop, per the blocking-query guide's "Implementation Details":
 *  - the first request has no `index` and answers at once; each later one
 *    sends the last `X-Consul-Index` with `wait`, and Consul holds it until
 *    the result may have changed or `wait` (+ up to wait/16 jitter) passed;
 *  - an index lower than the previous one resets to 0 (the next request
 *    does not block and starts over);
 *  - an index below 1 after handling an answer is raised to 1, so the next
 *    request really blocks;
 *  - the loop is rate limited by a token bucket (burst 2), so a churning
 *    index degrades into polling instead of a busy loop.
 * Failures (unreachable, non-200, missing index, bad JSON) go to
 * `sink.failed` and are retried with exponential backoff; the index is kept.
 */
import { type DiscoveredTarget, type MembershipSource, type SourceSink } from '../source.js';
import { ConsulApi, consulFailure, type ConsulConnection } from '../../consul/consul-api.js';
import { errorMessage } from '../../upstream/upstream-error.js';
import { Backoff, DEFAULT_PACING, sleep, TokenBucket, type PacingSettings } from './retry-pacing.js';
import { hostPort, labelName } from './label-name.js';
import { obj, str } from './json-fields.js';

export interface ConsulSourceOptions {
  readonly connection: ConsulConnection;
  readonly service: string;
  /** Only instances carrying every one of these tags (Consul's repeated `tag` parameter). */
  readonly tags: readonly string[];
  /** `dc` parameter; undefined = the agent's own datacenter. */
  readonly datacenter: string | undefined;
  /** The blocking query's `wait` (Consul caps it at 10 minutes). */
  readonly waitMs: number;
  readonly pacing?: PacingSettings;
}

export class ConsulSource implements MembershipSource {
  readonly kind = 'consul';
  readonly #opts: ConsulSourceOptions;
  readonly #api: ConsulApi;
  readonly #abort = new AbortController();
  #index = 0;

  constructor(opts: ConsulSourceOptions) {
    if (opts.waitMs <= 0 || opts.waitMs > 600_000) throw new RangeError('consul wait must be in (0, 10m]');
    this.#opts = opts;
    this.#api = new ConsulApi(opts.connection);
  }

  start(sink: SourceSink): Promise<void> {
    return new Promise((firstReported) => {
      let first = true;
      const guarded: SourceSink = {
        update: (targets) => {
          if (this.#abort.signal.aborted) return;
          sink.update(targets);
          if (first) (first = false), firstReported();
        },
        failed: (reason) => {
          if (this.#abort.signal.aborted) return;
          sink.failed(reason);
          if (first) (first = false), firstReported();
        },
      };
      void this.#loop(guarded).finally(() => {
        if (first) firstReported();
      });
    });
  }

  stop(): void {
    this.#abort.abort();
    void this.#api.close().catch(() => undefined);
  }

  async #loop(sink: SourceSink): Promise<void> {
    const signal = this.#abort.signal;
    const pacing = this.#opts.pacing ?? DEFAULT_PACING;
    const backoff = new Backoff(pacing);
    const bucket = new TokenBucket(pacing);
    while (!signal.aborted) {
      if (!(await bucket.take(signal))) return;
      let answer: Answer;
      try {
        answer = await this.#query(signal);
      } catch (err) {
        if (signal.aborted) return;
        sink.failed(`consul ${this.#api.baseUrl}: ${errorMessage(err)}`);
        if (!(await sleep(backoff.nextDelayMs(), signal))) return;
        continue;
      }
      backoff.reset();
      // Reset the index if it goes backwards; never block on an index below 1.
      this.#index = answer.index < this.#index ? 0 : Math.max(1, answer.index);
      sink.update(answer.targets);
    }
  }

  async #query(signal: AbortSignal): Promise<Answer> {
    const { service, tags, datacenter, waitMs } = this.#opts;
    const query = new URLSearchParams();
    query.set('passing', '');
    for (const tag of tags) query.append('tag', tag);
    if (datacenter !== undefined) query.set('dc', datacenter);
    if (this.#index > 0) {
      query.set('index', String(this.#index));
      query.set('wait', `${Math.ceil(waitMs / 1000)}s`);
    }
    // Consul may hold the answer for wait + wait/16; allow for that and the network.
    const timeoutMs = this.#index > 0 ? waitMs + Math.ceil(waitMs / 16) + 10_000 : 30_000;
    const res = await this.#api.call('GET', `/v1/health/service/${encodeURIComponent(service)}`, { query, timeoutMs, signal });
    if (res.status !== 200) throw new Error(consulFailure(`service ${service}`, res));
    const header = res.headers['x-consul-index'];
    const index = typeof header === 'string' && /^\d+$/.test(header) ? Number(header) : NaN;
    if (!Number.isSafeInteger(index)) throw new Error(`service ${service}: answer without a valid X-Consul-Index header`);
    let body: unknown;
    try {
      body = JSON.parse(res.text);
    } catch {
      throw new Error(`service ${service}: answer is not JSON`);
    }
    return { index, targets: serviceEntries(body, service) };
  }
}

interface Answer {
  readonly index: number;
  readonly targets: readonly DiscoveredTarget[];
}

/**
 * Maps the health endpoint's entries (`[{Node, Service, Checks}]`) to
 * targets: address `Service.Address` or, when empty, `Node.Address` (as the
 * docs say a service without an address uses its node's), port
 * `Service.Port`. Labels mirror Prometheus' consul_sd meta labels.
 */
export function serviceEntries(body: unknown, service: string): DiscoveredTarget[] {
  if (!Array.isArray(body)) throw new Error(`service ${service}: answer is not a list`);
  const byAddress = new Map<string, DiscoveredTarget>();
  for (const entry of body) {
    const node = record(entry, 'Node');
    const svc = record(entry, 'Service');
    const host = str(svc['Address']) || str(node['Address']);
    const port = svc['Port'];
    if (host === '' || typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw new Error(`service ${service}: an entry has no usable address or port`);
    }
    const labels: Record<string, string> = {
      consul_node: str(node['Node']),
      consul_dc: str(node['Datacenter']),
      consul_service_id: str(svc['ID']),
    };
    const tags = Array.isArray(svc['Tags']) ? svc['Tags'].filter((t): t is string => typeof t === 'string') : [];
    // As Prometheus' consul_sd: tags joined with the separator at both ends (`,a,b,`; none: `,,`), so `.*,tag,.*` matches whole tags.
    labels['consul_tags'] = `,${tags.join(',')},`;
    const meta = svc['Meta'];
    if (meta !== null && typeof meta === 'object') {
      for (const [k, v] of Object.entries(meta)) if (typeof v === 'string') labels[labelName('consul_service_metadata', k)] = v;
    }
    const address = hostPort(host, port);
    byAddress.set(address, { address, labels });
  }
  return [...byAddress.values()].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}

function record(entry: unknown, key: string): Record<string, unknown> {
  const v = obj(entry)[key];
  if (v === null || typeof v !== 'object') throw new Error(`service entry without ${key}`);
  return obj(v);
}
