/**
 * Membership from Kubernetes: the EndpointSlices of one Service
 * (`discovery.k8s.io/v1`, label `kubernetes.io/service-name=<svc>`), read
 * with the API's list-then-watch protocol
 * (https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes):
 *  - list, remember the list's `metadata.resourceVersion`, report the set;
 *  - watch from that resourceVersion with `allowWatchBookmarks=true`;
 *    ADDED/MODIFIED/DELETED change the slice map and are reported; BOOKMARK
 *    only advances the resourceVersion;
 *  - a watch that ends (its `timeoutSeconds`, a proxy, a restart) is
 *    re-opened from the last resourceVersion;
 *  - 410 Gone — as the watch's HTTP status or as an ERROR event whose Status
 *    has code 410 ("the requested resourceVersion is no longer available") —
 *    means relist (https://kubernetes.io/docs/reference/using-api/api-concepts/#410-gone-responses);
 *    any other ERROR event also relists.
 * Failures go to `sink.failed`, with backoff; the last set stays.
 *
 * Endpoints (https://kubernetes.io/docs/reference/kubernetes-api/service-resources/endpoint-slice-v1/):
 * `conditions.ready` true or unset ("nil should be interpreted as true") →
 * a target; not ready but `terminating: true` and `serving` true (or unset)
 * → a target marked terminating, which the glue drains while the pod is
 * still in its grace period. The port is the slice port named `port_name`,
 * or the slice's only port.
 */
import { type MembershipSource, type SourceSink } from '../source.js';
import { errorMessage } from '../../upstream/upstream-error.js';
import { Backoff, DEFAULT_PACING, sleep, TokenBucket, type PacingSettings } from './retry-pacing.js';
import { obj, str } from './json-fields.js';
import { endpointTargets, sliceName } from './endpoint-slices.js';
import { KubernetesApi, type KubernetesApiSettings } from './kubernetes-api.js';

export interface KubernetesSourceOptions {
  readonly api: KubernetesApiSettings;
  readonly namespace: string;
  readonly service: string;
  /** The EndpointSlice port's name; undefined = the slice must have exactly one port. */
  readonly portName: string | undefined;
  /** Server-side watch timeout (`timeoutSeconds`); the watch is then re-opened. */
  readonly watchTimeoutSeconds?: number;
  readonly pacing?: PacingSettings;
}

const LIST_TIMEOUT_MS = 30_000;

/** What decides the outer loop after a watch ends. */
type WatchEnd = 'relist' | 'rewatch';

export class KubernetesSource implements MembershipSource {
  readonly kind = 'kubernetes';
  readonly #opts: KubernetesSourceOptions;
  readonly #api: KubernetesApi;
  readonly #abort = new AbortController();
  readonly #slices = new Map<string, unknown>();
  #resourceVersion = '';

  constructor(opts: KubernetesSourceOptions) {
    this.#opts = opts;
    this.#api = new KubernetesApi(opts.api);
  }

  start(sink: SourceSink): Promise<void> {
    return new Promise((firstReported) => {
      let first = true;
      const once = (): void => {
        if (first) (first = false), firstReported();
      };
      const guarded: SourceSink = {
        update: (targets) => {
          if (this.#abort.signal.aborted) return;
          sink.update(targets);
          once();
        },
        failed: (reason) => {
          if (this.#abort.signal.aborted) return;
          sink.failed(reason);
          once();
        },
      };
      void this.#loop(guarded).finally(once);
    });
  }

  stop(): void {
    this.#abort.abort();
    void this.#api.close().catch(() => undefined);
  }

  get #path(): string {
    const selector = encodeURIComponent(`kubernetes.io/service-name=${this.#opts.service}`);
    return `/apis/discovery.k8s.io/v1/namespaces/${encodeURIComponent(this.#opts.namespace)}/endpointslices?labelSelector=${selector}`;
  }

  async #loop(sink: SourceSink): Promise<void> {
    const signal = this.#abort.signal;
    const pacing = this.#opts.pacing ?? DEFAULT_PACING;
    const backoff = new Backoff(pacing);
    const bucket = new TokenBucket(pacing);
    let listed = false;
    while (!signal.aborted) {
      if (!(await bucket.take(signal))) return;
      try {
        if (!listed) {
          await this.#list(sink);
          listed = true;
        }
        const end = await this.#watch(sink, backoff);
        if (end === 'relist') listed = false;
        backoff.reset();
      } catch (err) {
        if (signal.aborted) return;
        // Relist after any failure: re-watching from the same resourceVersion
        // would replay an event that could not be applied.
        listed = false;
        sink.failed(`kubernetes ${this.#api.server}: ${errorMessage(err)}`);
        if (!(await sleep(backoff.nextDelayMs(), signal))) return;
      }
    }
  }

  async #list(sink: SourceSink): Promise<void> {
    const res = await this.#api.get(this.#path, { signal: this.#abort.signal, headersTimeoutMs: LIST_TIMEOUT_MS, bodyTimeoutMs: LIST_TIMEOUT_MS });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`listing EndpointSlices: ${statusMessage(res.statusCode, text)}`);
    const list = obj(parseJson(text, 'the EndpointSlice list'));
    const items = list['items'];
    const rv = str(obj(list['metadata'])['resourceVersion']);
    if (!Array.isArray(items) || rv === '') throw new Error('listing EndpointSlices: not an EndpointSliceList');
    const targets = endpointTargets(items, this.#opts.portName);
    this.#slices.clear();
    for (const item of items) this.#slices.set(sliceName(item), item);
    this.#resourceVersion = rv;
    sink.update(targets);
  }

  /** One watch request, until it ends; throws on failures that need backoff. */
  async #watch(sink: SourceSink, backoff: Backoff): Promise<WatchEnd> {
    const timeoutSeconds = this.#opts.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300);
    const path = `${this.#path}&watch=true&allowWatchBookmarks=true&timeoutSeconds=${timeoutSeconds}&resourceVersion=${encodeURIComponent(this.#resourceVersion)}`;
    const res = await this.#api.get(path, { signal: this.#abort.signal, headersTimeoutMs: LIST_TIMEOUT_MS, bodyTimeoutMs: (timeoutSeconds + 30) * 1000 });
    if (res.statusCode === 410) {
      await res.body.dump();
      return 'relist';
    }
    if (res.statusCode !== 200) throw new Error(`watching EndpointSlices: ${statusMessage(res.statusCode, await res.body.text())}`);
    backoff.reset();
    let buffered = '';
    // A multi-byte character may straddle two chunks: decode as a stream.
    const decoder = new TextDecoder('utf-8');
    try {
      for await (const chunk of res.body) {
        buffered += typeof chunk === 'string' ? chunk : decoder.decode(chunk as Uint8Array, { stream: true });
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (line === '') continue;
          let end: WatchEnd | undefined;
          try {
            end = this.#event(line, sink);
          } catch (err) {
            throw new WatchEventError(errorMessage(err));
          }
          if (end !== undefined) {
            res.body.destroy();
            return end;
          }
        }
      }
    } catch (err) {
      res.body.destroy();
      if (err instanceof WatchEventError) throw err;
      // A dropped watch connection is routine: re-open it from the last resourceVersion.
    }
    return 'rewatch';
  }

  /** Applies one watch event; returns 'relist' when the watch must give way to a new list. */
  #event(line: string, sink: SourceSink): WatchEnd | undefined {
    const event = obj(parseJson(line, 'a watch event'));
    const type = str(event['type']);
    const object = event['object'];
    if (type === 'ERROR') {
      const status = obj(object);
      if (status['code'] !== 410) sink.failed(`watch error: ${str(status['message']) || JSON.stringify(object)}`);
      return 'relist';
    }
    const rv = str(obj(obj(object)['metadata'])['resourceVersion']);
    if (type === 'BOOKMARK') {
      if (rv) this.#resourceVersion = rv;
      return undefined;
    }
    if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') throw new Error(`unknown watch event type ${JSON.stringify(type)}`);
    const name = sliceName(object);
    const next = new Map(this.#slices);
    if (type === 'DELETED') next.delete(name);
    else next.set(name, object);
    const targets = endpointTargets([...next.values()], this.#opts.portName);
    this.#slices.clear();
    for (const [k, v] of next) this.#slices.set(k, v);
    if (rv) this.#resourceVersion = rv;
    sink.update(targets);
    return undefined;
  }
}

class WatchEventError extends Error {
  override readonly name = 'WatchEventError';
}

function statusMessage(code: number, body: string): string {
  let message = '';
  try {
    message = str(obj(JSON.parse(body))['message']);
  } catch {
    message = body.trim().slice(0, 200);
  }
  return `HTTP ${code}${message ? ` (${message})` : ''}`;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${what} is not JSON`);
  }
}
