/**
 * A Consul agent + catalog, as far as shardgate talks to one, on a loopback
 * port (Consul cannot run on these machines). Each behaviour follows the
 * documentation named in its comment; anything else answers 404.
 *
 * Tests drive it: register instances directly or through the agent API, set
 * check statuses (or let the fake really probe the HTTP checks), move the
 * index backwards, fail requests, or close it to make it unreachable.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';

export type CheckStatus = 'passing' | 'warning' | 'critical';

export interface FakeInstance {
  id: string;
  service: string;
  address: string;
  port: number;
  tags: string[];
  meta: Record<string, string>;
  node: string;
  nodeAddress: string;
  status: CheckStatus;
  /** The registered HTTP check (agent API), if any. */
  check?: { http: string; intervalMs: number; timeoutMs: number; header?: Record<string, string[]>; deregisterCriticalServiceAfter?: string };
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export class ConsulFake {
  readonly instances = new Map<string, FakeInstance>();
  readonly requests: RecordedRequest[] = [];
  /** Required `X-Consul-Token`, if set (ACL). */
  aclToken: string | undefined;
  /** Answer every request with this status (e.g. 500) instead of serving it. */
  failWith: number | undefined;
  /** When true, the real HTTP checks of registered instances are probed. */
  probeChecks = false;
  readonly datacenter = 'dc1';
  #index = 10;
  #server: Server | undefined;
  #port = 0;
  #waiters = new Set<() => void>();
  #probeTimer: NodeJS.Timeout | undefined;

  async start(port = 0): Promise<void> {
    const server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    this.#server = server;
    this.#port = (server.address() as AddressInfo).port;
    this.#probeTimer = setInterval(() => void this.#probe(), 100);
  }

  get address(): string {
    return `127.0.0.1:${this.#port}`;
  }

  get index(): number {
    return this.#index;
  }

  /** Makes the fake unreachable (connections refused) until `start(sameport)`. */
  async close(): Promise<void> {
    clearInterval(this.#probeTimer);
    for (const wake of this.#waiters) wake();
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }

  async restart(): Promise<void> {
    await this.start(this.#port);
  }

  /** Adds or replaces an instance (as a catalog registration would) and bumps the index. */
  put(inst: Partial<FakeInstance> & { id: string; port: number }): void {
    this.instances.set(inst.id, {
      service: 'pushgateway', address: '127.0.0.1', tags: [], meta: {}, node: 'node-1', nodeAddress: '127.0.0.1', status: 'passing', ...inst,
    });
    this.#changed();
  }

  remove(id: string): void {
    if (this.instances.delete(id)) this.#changed();
  }

  setStatus(id: string, status: CheckStatus): void {
    const inst = this.instances.get(id);
    if (inst && inst.status !== status) {
      inst.status = status;
      this.#changed();
    }
  }

  /**
   * Moves the index to `n` (lower = "goes backwards", e.g. a snapshot
   * restore: https://developer.hashicorp.com/consul/api-docs/features/blocking#implementation-details)
   * and wakes blocked queries.
   */
  setIndex(n: number): void {
    this.#index = n;
    this.#wake();
  }

  /**
   * Every write raises the index and wakes blocked queries: "the HTTP request
   * will hang until a change in the system occurs" (blocking queries doc).
   * One index for everything, as Consul's raft index; a change elsewhere also
   * wakes a query ("no guarantee of a change").
   */
  #changed(): void {
    this.#index += 1;
    this.#wake();
  }

  #wake(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const w of waiters) w();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    this.requests.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, body });
    if (this.failWith !== undefined) return send(res, this.failWith, 'fake failure\n');
    // ACL: the token travels in X-Consul-Token; a missing or wrong one is 403
    // (https://developer.hashicorp.com/consul/api-docs/api-structure#authentication).
    if (this.aclToken !== undefined && req.headers['x-consul-token'] !== this.aclToken) return send(res, 403, 'ACL not found\n');
    const health = /^\/v1\/health\/service\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && health) return this.#health(decodeURIComponent(health[1] ?? ''), url.searchParams, res);
    if (req.method === 'PUT' && url.pathname === '/v1/agent/service/register') return this.#register(body, res);
    const dereg = /^\/v1\/agent\/service\/deregister\/(.+)$/.exec(url.pathname);
    if (req.method === 'PUT' && dereg) return this.#deregister(decodeURIComponent(dereg[1] ?? ''), res);
    if (req.method === 'GET' && url.pathname === '/v1/agent/services') return this.#agentServices(res);
    if (req.method === 'GET' && url.pathname === '/v1/agent/self') return this.#agentSelf(res);
    send(res, 404, 'not found in the fake\n');
  }

  /**
   * `GET /v1/health/service/:service` (https://developer.hashicorp.com/consul/api-docs/health#list-service-instances-for-service):
   * `passing` keeps only instances whose checks all pass; each `tag` must be
   * on the instance; `dc` picks the datacenter (only ours exists: another is
   * an error); blocking with `index` + `wait` (blocking queries doc).
   */
  async #health(service: string, q: URLSearchParams, res: ServerResponse): Promise<void> {
    const dc = q.get('dc');
    if (dc !== null && dc !== this.datacenter) return send(res, 500, `No path to datacenter\n`);
    const index = Number(q.get('index') ?? '0');
    if (index > 0 && index >= this.#index) {
      // Blocking query: hold until the index moves past `index` or `wait`
      // passes ("defaults to 5 minutes", "limited to 10 minutes"; the doc's
      // wait/16 jitter is left out so tests stay deterministic).
      const waitMs = Math.min(parseWait(q.get('wait')) ?? 300_000, 600_000);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, waitMs);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.#waiters.add(done);
        res.on('close', done);
      });
      if (res.destroyed) return;
    }
    const tags = q.getAll('tag');
    const entries = [...this.instances.values()]
      .filter((i) => i.service === service)
      .filter((i) => !q.has('passing') || i.status === 'passing')
      .filter((i) => tags.every((t) => i.tags.includes(t)))
      .map((i) => ({
        Node: { ID: `id-${i.node}`, Node: i.node, Address: i.nodeAddress, Datacenter: this.datacenter, TaggedAddresses: {}, Meta: {} },
        Service: { ID: i.id, Service: i.service, Tags: i.tags, Address: i.address, Meta: i.meta, Port: i.port },
        Checks: [{ Node: i.node, CheckID: `service:${i.id}`, Status: i.status, ServiceID: i.id, ServiceName: i.service }],
      }));
    // Every blocking endpoint answers with X-Consul-Index (blocking queries doc).
    res.writeHead(200, { 'content-type': 'application/json', 'x-consul-index': String(this.#index) });
    res.end(JSON.stringify(entries));
  }

  /**
   * `PUT /v1/agent/service/register` (https://developer.hashicorp.com/consul/api-docs/agent/service#register-service):
   * ID defaults to Name; a new check starts critical (the docs' default
   * `Status`); with `replace-existing-checks` the given checks replace the old.
   */
  #register(body: string, res: ServerResponse): void {
    let reg: { ID?: string; Name?: string; Address?: string; Port?: number; Tags?: string[]; Meta?: Record<string, string>; Check?: { HTTP?: string; Interval?: string; Timeout?: string; Header?: Record<string, string[]>; DeregisterCriticalServiceAfter?: string } };
    try {
      reg = JSON.parse(body) as typeof reg;
    } catch {
      return send(res, 400, 'Request decode failed\n');
    }
    if (!reg.Name) return send(res, 400, 'Missing service name\n');
    const id = reg.ID ?? reg.Name;
    const old = this.instances.get(id);
    const check = reg.Check?.HTTP
      ? { http: reg.Check.HTTP, intervalMs: parseWait(reg.Check.Interval ?? null) ?? 10_000, timeoutMs: parseWait(reg.Check.Timeout ?? null) ?? 10_000, header: reg.Check.Header, deregisterCriticalServiceAfter: reg.Check.DeregisterCriticalServiceAfter }
      : undefined;
    this.instances.set(id, {
      id, service: reg.Name, address: reg.Address ?? '', port: reg.Port ?? 0, tags: reg.Tags ?? [], meta: reg.Meta ?? {},
      node: 'node-1', nodeAddress: '127.0.0.1', status: old?.status ?? (check ? 'critical' : 'passing'), check,
    });
    this.#changed();
    send(res, 200, '');
  }

  /** `PUT /v1/agent/service/deregister/:service_id`; an unknown ID is 404 ("Unknown service ID"). */
  #deregister(id: string, res: ServerResponse): void {
    if (!this.instances.has(id)) return send(res, 404, `Unknown service ID "${id}"\n`);
    this.remove(id);
    send(res, 200, '');
  }

  /** `GET /v1/agent/services`: a map from service ID to the agent's service (https://developer.hashicorp.com/consul/api-docs/agent/service#list-services). */
  #agentServices(res: ServerResponse): void {
    const out: Record<string, unknown> = {};
    for (const i of this.instances.values()) out[i.id] = { ID: i.id, Service: i.service, Tags: i.tags, Meta: i.meta, Port: i.port, Address: i.address, Datacenter: this.datacenter };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(out));
  }

  /**
   * `GET /v1/agent/self` (https://developer.hashicorp.com/consul/api-docs/agent#read-configuration):
   * the agent's configuration; Prometheus' consul_sd reads `Config.Datacenter` from it.
   */
  #agentSelf(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ Config: { Datacenter: this.datacenter, NodeName: 'node-1' }, Member: { Name: 'node-1', Addr: '127.0.0.1' } }));
  }

  /**
   * HTTP checks (https://developer.hashicorp.com/consul/docs/services/usage/checks#http-checks):
   * a 2xx answer is passing, 429 warning, anything else (or no answer within
   * Timeout) critical. Probed at most every Interval.
   */
  #lastProbe = new Map<string, number>();
  async #probe(): Promise<void> {
    if (!this.probeChecks) return;
    const now = Date.now();
    await Promise.all([...this.instances.values()].map(async (i) => {
      if (!i.check || now - (this.#lastProbe.get(i.id) ?? 0) < i.check.intervalMs) return;
      this.#lastProbe.set(i.id, now);
      let status: CheckStatus;
      try {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(i.check.header ?? {})) if (v[0] !== undefined) headers[k] = v[0];
        const r = await fetch(i.check.http, { headers, signal: AbortSignal.timeout(i.check.timeoutMs) });
        await r.arrayBuffer();
        status = r.status >= 200 && r.status < 300 ? 'passing' : r.status === 429 ? 'warning' : 'critical';
      } catch {
        status = 'critical';
      }
      if (this.instances.get(i.id) === i) this.setStatus(i.id, status);
    }));
  }
}

function send(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain' });
  res.end(text);
}

/** Go durations as Consul takes them for `wait`, Interval, Timeout: `10s`, `5m`, `500ms`. */
function parseWait(s: string | null): number | undefined {
  if (s === null) return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(s);
  if (!m) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}
