/**
 * A Kubernetes API server, as far as the EndpointSlice source uses one: list
 * and watch of `discovery.k8s.io/v1` EndpointSlices, on loopback, plain
 * HTTP (a Kubernetes API server cannot run on these machines). Each
 * behaviour follows the documentation named in its comment.
 *
 * Tests drive it: apply or delete slices (each change gets the next
 * resourceVersion and is sent to open watches), send bookmarks, compact the
 * history (older resourceVersions then get 410 Gone), end watches, fail
 * requests, or close it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';

export interface FakeEndpoint {
  ip: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
  pod?: string;
  node?: string;
  zone?: string;
}

type Json = Record<string, unknown>;

interface Watcher {
  readonly res: ServerResponse;
  readonly namespace: string;
  readonly selector: Readonly<Record<string, string>>;
  readonly bookmarks: boolean;
}

export interface RecordedK8sRequest {
  readonly path: string;
  readonly query: URLSearchParams;
  readonly authorization: string | undefined;
}

/** An EndpointSlice of Service `service` (https://kubernetes.io/docs/reference/kubernetes-api/service-resources/endpoint-slice-v1/). */
export function endpointSlice(name: string, opts: { service?: string; namespace?: string; endpoints: FakeEndpoint[]; ports?: { name?: string; port: number }[] }): Json {
  const namespace = opts.namespace ?? 'monitoring';
  return {
    kind: 'EndpointSlice',
    apiVersion: 'discovery.k8s.io/v1',
    metadata: { name, namespace, labels: { 'kubernetes.io/service-name': opts.service ?? 'pushgateway' } },
    addressType: 'IPv4',
    endpoints: opts.endpoints.map((e) => ({
      addresses: [e.ip],
      // Conditions are optional pointers: an unset one is left out, as the API server does.
      conditions: Object.fromEntries(Object.entries({ ready: e.ready, serving: e.serving, terminating: e.terminating }).filter(([, v]) => v !== undefined)),
      ...(e.node ? { nodeName: e.node } : {}),
      ...(e.zone ? { zone: e.zone } : {}),
      ...(e.pod ? { targetRef: { kind: 'Pod', name: e.pod, namespace } } : {}),
    })),
    ports: (opts.ports ?? [{ name: 'http', port: 9091 }]).map((p) => ({ ...(p.name !== undefined ? { name: p.name } : {}), port: p.port, protocol: 'TCP' })),
  };
}

export class KubernetesFake {
  readonly requests: RecordedK8sRequest[] = [];
  /** Required bearer token; undefined = no authentication. */
  token: string | undefined;
  /** How an expired resourceVersion is refused on watch: HTTP 410, or a 200 whose first event is an ERROR with code 410. */
  goneAs: 'status' | 'event' = 'event';
  failWith: number | undefined;
  readonly #slices = new Map<string, Json>();
  readonly #history: { rv: number; type: string; object: Json }[] = [];
  readonly #watchers = new Set<Watcher>();
  #rv = 100;
  #oldestValid = 0;
  #server: Server | undefined;
  #port = 0;

  async start(port = 0): Promise<void> {
    const server = createServer((req, res) => this.#handle(req, res));
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    this.#server = server;
    this.#port = (server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  get resourceVersion(): string {
    return String(this.#rv);
  }

  get openWatches(): number {
    return this.#watchers.size;
  }

  async close(): Promise<void> {
    this.endWatches();
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }

  async restart(): Promise<void> {
    await this.start(this.#port);
  }

  /** Creates or replaces a slice: ADDED or MODIFIED, with the next resourceVersion. */
  apply(slice: Json): void {
    const name = str(meta(slice)['name']);
    const type = this.#slices.has(name) ? 'MODIFIED' : 'ADDED';
    this.#record(type, slice);
  }

  delete(name: string): void {
    const slice = this.#slices.get(name);
    if (slice) this.#record('DELETED', slice);
  }

  /**
   * BOOKMARK events carry only the current resourceVersion, sent to watches
   * opened with allowWatchBookmarks=true
   * (https://kubernetes.io/docs/reference/using-api/api-concepts/#watch-bookmarks).
   */
  bookmark(): void {
    this.#rv += 1;
    for (const w of this.#watchers) {
      if (w.bookmarks) writeEvent(w.res, 'BOOKMARK', { kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1', metadata: { resourceVersion: String(this.#rv) } });
    }
  }

  /**
   * Forgets the history up to now (etcd compaction): a watch from an older
   * resourceVersion gets 410 Gone
   * (https://kubernetes.io/docs/reference/using-api/api-concepts/#410-gone-responses).
   */
  compact(): void {
    this.#rv += 1;
    this.#oldestValid = this.#rv;
    this.#history.length = 0;
  }

  /** Ends every open watch, as a timeout or an API server restart does. */
  endWatches(): void {
    for (const w of this.#watchers) w.res.end();
    this.#watchers.clear();
  }

  #record(type: string, slice: Json): void {
    this.#rv += 1;
    const object = { ...slice, metadata: { ...meta(slice), resourceVersion: String(this.#rv) } };
    const name = str(meta(slice)['name']);
    if (type === 'DELETED') this.#slices.delete(name);
    else this.#slices.set(name, object);
    this.#history.push({ rv: this.#rv, type, object });
    for (const w of this.#watchers) if (matches(object, w.namespace, w.selector)) writeEvent(w.res, type, object);
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    this.requests.push({ path: url.pathname, query: url.searchParams, authorization: req.headers.authorization });
    if (this.failWith !== undefined) return status(res, this.failWith, 'InternalError', 'fake failure');
    // Bearer token authentication: a missing or wrong token is 401 Unauthorized
    // (https://kubernetes.io/docs/reference/access-authn-authz/authentication/#service-account-tokens).
    if (this.token !== undefined && req.headers.authorization !== `Bearer ${this.token}`) return status(res, 401, 'Unauthorized', 'Unauthorized');
    const m = /^\/apis\/discovery\.k8s\.io\/v1\/namespaces\/([^/]+)\/endpointslices$/.exec(url.pathname);
    if (req.method !== 'GET' || !m) return status(res, 404, 'NotFound', 'the server could not find the requested resource');
    const namespace = decodeURIComponent(m[1] ?? '');
    const selector = parseSelector(url.searchParams.get('labelSelector') ?? '');
    const watch = url.searchParams.get('watch');
    if (watch === 'true' || watch === '1') return this.#watch(res, namespace, selector, url.searchParams);
    // List: the items and the list's resourceVersion, the point to watch from
    // (https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes).
    const items = [...this.#slices.values()].filter((s) => matches(s, namespace, selector));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'EndpointSliceList', apiVersion: 'discovery.k8s.io/v1', metadata: { resourceVersion: String(this.#rv) }, items }));
  }

  /**
   * Watch: a stream of JSON events, one per line, `{type, object}`, starting
   * after `resourceVersion` (unset or "0": synthetic ADDED events for the
   * current state first); `timeoutSeconds` ends it
   * (https://kubernetes.io/docs/reference/using-api/api-concepts/#semantics-for-watch).
   */
  #watch(res: ServerResponse, namespace: string, selector: Record<string, string>, q: URLSearchParams): void {
    const rvParam = q.get('resourceVersion') ?? '';
    const from = Number(rvParam || '0');
    if (rvParam !== '' && rvParam !== '0' && from < this.#oldestValid) {
      const message = `too old resource version: ${rvParam} (${this.#oldestValid})`;
      if (this.goneAs === 'status') return status(res, 410, 'Expired', message);
      res.writeHead(200, { 'content-type': 'application/json' });
      writeEvent(res, 'ERROR', { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'Expired', code: 410 });
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    if (rvParam === '' || rvParam === '0') {
      for (const s of this.#slices.values()) if (matches(s, namespace, selector)) writeEvent(res, 'ADDED', s);
    } else {
      for (const e of this.#history) if (e.rv > from && matches(e.object, namespace, selector)) writeEvent(res, e.type, e.object);
    }
    const watcher: Watcher = { res, namespace, selector, bookmarks: q.get('allowWatchBookmarks') === 'true' };
    this.#watchers.add(watcher);
    const timeout = Number(q.get('timeoutSeconds') ?? '0');
    const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined;
    res.on('close', () => {
      clearTimeout(timer);
      this.#watchers.delete(watcher);
    });
  }
}

function writeEvent(res: ServerResponse, type: string, object: Json): void {
  res.write(`${JSON.stringify({ type, object })}\n`);
}

/** A Status object, the API's error body (https://kubernetes.io/docs/reference/using-api/api-concepts/#resourceversion-in-metadata). */
function status(res: ServerResponse, code: number, reason: string, message: string): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }));
}

/** Equality-based selectors, `k=v,k2=v2` (https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#equality-based-requirement). */
function parseSelector(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of s.split(',').filter(Boolean)) {
    const [k, v] = part.split(/==?/);
    out[k ?? ''] = v ?? '';
  }
  return out;
}

function matches(slice: Json, namespace: string, selector: Readonly<Record<string, string>>): boolean {
  const m = meta(slice);
  const labels = (m['labels'] ?? {}) as Record<string, string>;
  return m['namespace'] === namespace && Object.entries(selector).every(([k, v]) => labels[k] === v);
}

function meta(slice: Json): Json {
  return (slice['metadata'] ?? {}) as Json;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
