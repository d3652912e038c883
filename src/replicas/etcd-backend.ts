/**
 * The coordination store on etcd v3, through its JSON gateway
 * (https://etcd.io/docs/v3.4/dev-guide/api_grpc_gateway/: the gRPC API as
 * POST /v3/<service>/<method>, bytes in base64, int64 as strings) over
 * undici, which shardgate already uses: no gRPC stack for five calls.
 *
 * Layout under `prefix`:
 *   replicas/<id>  {id,url,acked}   attached to the replica's lease (its session)
 *   leader         {id,url}         attached to the leader's lease, created
 *                                   only if absent; term = its create_revision
 *   ring           PublishedRing    written only by a transaction that
 *                                   compares the leader key's create_revision
 *                                   with the publisher's term
 *
 * A session is one lease of ttl (rounded up to whole seconds, etcd's unit),
 * renewed by LeaseKeepAlive; a keepalive answered without a TTL means the
 * lease is gone (expired or revoked): a new one is granted, and the old
 * leadership ended with the old lease, as etcd deletes the keys attached
 * to it (https://etcd.io/docs/v3.4/learning/api/#lease-api).
 */
import { request } from 'undici';
import { type CoordinationBackend, type LeaderRecord, type ReplicaIdentity, type ReplicaRecord, type StoreView } from './coordination-backend.js';
import { parsePublishedRing, serializePublishedRing, type PublishedRing } from './published-ring.js';

export interface EtcdSettings {
  /** http(s)://host:port of the cluster's client URLs; tried in turn. */
  readonly endpoints: readonly string[];
  /** Key prefix, ending in "/". */
  readonly prefix: string;
  readonly ttlMs: number;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** Per request (default 2 s). */
  readonly timeoutMs?: number;
}

/** The store could not be reached, or answered an error. */
export class CoordinationError extends Error {
  override readonly name = 'CoordinationError';
}

interface Kv {
  readonly key?: string;
  readonly value?: string;
  readonly create_revision?: string;
  readonly lease?: string;
}

interface RangeResponse {
  readonly kvs?: readonly Kv[];
}

interface TxnResponse {
  readonly header?: { readonly revision?: string };
  readonly succeeded?: boolean;
  readonly responses?: ReadonlyArray<{ readonly response_range?: RangeResponse }>;
}

export class EtcdBackend implements CoordinationBackend {
  readonly kind = 'etcd';
  readonly ttlMs: number;
  readonly #s: EtcdSettings;
  #endpoint = 0;
  #lease: string | undefined;
  #token: string | undefined;

  constructor(settings: EtcdSettings) {
    if (settings.endpoints.length === 0) throw new CoordinationError('etcd: no endpoints');
    this.#s = settings;
    this.ttlMs = settings.ttlMs;
  }

  async heartbeat(self: ReplicaRecord): Promise<void> {
    if (this.#lease !== undefined) {
      const kept = await this.#call<{ result?: { TTL?: string } }>('/v3/lease/keepalive', { ID: this.#lease });
      if (Number(kept.result?.TTL ?? 0) <= 0) this.#lease = undefined;
    }
    if (this.#lease === undefined) {
      const granted = await this.#call<{ ID?: string }>('/v3/lease/grant', { TTL: String(Math.ceil(this.ttlMs / 1000)) });
      if (granted.ID === undefined) throw new CoordinationError('etcd: lease grant answered no ID');
      this.#lease = granted.ID;
    }
    await this.#call('/v3/kv/put', { key: b64(this.#key(`replicas/${self.id}`)), value: b64(JSON.stringify(self)), lease: this.#lease });
  }

  async campaign(self: ReplicaIdentity): Promise<LeaderRecord | undefined> {
    if (this.#lease === undefined) return (await this.read()).leader;
    const key = b64(this.#key('leader'));
    const txn = await this.#call<TxnResponse>('/v3/kv/txn', {
      compare: [{ key, target: 'CREATE', result: 'EQUAL', create_revision: '0' }],
      success: [{ request_put: { key, value: b64(JSON.stringify({ id: self.id, url: self.url })), lease: this.#lease } }],
      failure: [{ request_range: { key } }],
    });
    if (txn.succeeded === true) return { id: self.id, url: self.url, term: Number(txn.header?.revision ?? 0) };
    const kv = txn.responses?.[0]?.response_range?.kvs?.[0];
    const leader = leaderOf(kv);
    // Our id under another lease: an earlier run of this replica, whose lease has not expired yet. Not us.
    if (leader?.id === self.id && kv?.lease !== this.#lease) return { ...leader, id: `${leader.id} (an earlier session)` };
    return leader;
  }

  async publish(term: number, ring: PublishedRing): Promise<boolean> {
    if (this.#lease === undefined) return false;
    const leader = b64(this.#key('leader'));
    const txn = await this.#call<TxnResponse>('/v3/kv/txn', {
      compare: [
        { key: leader, target: 'CREATE', result: 'EQUAL', create_revision: String(term) },
        { key: leader, target: 'LEASE', result: 'EQUAL', lease: this.#lease },
      ],
      success: [{ request_put: { key: b64(this.#key('ring')), value: b64(serializePublishedRing(ring)) } }],
      failure: [],
    });
    return txn.succeeded === true;
  }

  async read(): Promise<StoreView> {
    // One transaction: the three ranges come from the same revision.
    const prefix = this.#key('replicas/');
    const txn = await this.#call<TxnResponse>('/v3/kv/txn', {
      compare: [],
      success: [
        { request_range: { key: b64(this.#key('leader')) } },
        { request_range: { key: b64(this.#key('ring')) } },
        { request_range: { key: b64(prefix), range_end: b64(prefixEnd(prefix)) } },
      ],
      failure: [],
    });
    const [leader, ring, replicas] = (txn.responses ?? []).map((r) => r.response_range?.kvs ?? []);
    const ringValue = ring?.[0]?.value;
    return {
      leader: leaderOf(leader?.[0]),
      ring: ringValue === undefined ? undefined : parsePublishedRing(unb64(ringValue)),
      replicas: (replicas ?? []).flatMap((kv) => {
        const r = parseJson(kv.value === undefined ? undefined : unb64(kv.value)) as Partial<ReplicaRecord> | undefined;
        return r !== undefined && typeof r.id === 'string' && typeof r.url === 'string' && typeof r.acked === 'number' ? [{ id: r.id, url: r.url, acked: r.acked }] : [];
      }),
    };
  }

  async resign(term: number): Promise<void> {
    const key = b64(this.#key('leader'));
    await this.#call('/v3/kv/txn', { compare: [{ key, target: 'CREATE', result: 'EQUAL', create_revision: String(term) }], success: [{ request_delete_range: { key } }], failure: [] });
  }

  async close(): Promise<void> {
    const lease = this.#lease;
    this.#lease = undefined;
    // Revoking deletes the replica key (and the leader key, if held) at once, instead of after the TTL.
    // A lease that already expired is as good as revoked (etcd answers 404 "requested lease not found").
    if (lease !== undefined) await this.#call('/v3/lease/revoke', { ID: lease }).catch((err: unknown) => {
      if (!(err instanceof CoordinationError && err.message.includes('lease not found'))) throw err;
    });
  }

  #key(name: string): string {
    return `${this.#s.prefix}${name}`;
  }

  async #call<T = unknown>(path: string, body: unknown, retried = false): Promise<T> {
    const endpoint = this.#s.endpoints[this.#endpoint % this.#s.endpoints.length] ?? '';
    const timeout = this.#s.timeoutMs ?? 2000;
    let answer;
    try {
      if (this.#s.username !== undefined && this.#token === undefined) await this.#authenticate(endpoint, timeout);
      answer = await request(`${endpoint.replace(/\/+$/, '')}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(this.#token === undefined ? {} : { authorization: this.#token }) },
        body: JSON.stringify(body),
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
    } catch (err) {
      // The next call tries the next endpoint.
      this.#endpoint++;
      throw new CoordinationError(`etcd ${endpoint}${path}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const text = await answer.body.text();
    if (answer.statusCode === 401 && this.#s.username !== undefined && !retried) {
      // The auth token expired: authenticate again, once.
      this.#token = undefined;
      return this.#call<T>(path, body, true);
    }
    if (answer.statusCode !== 200) throw new CoordinationError(`etcd ${endpoint}${path}: HTTP ${answer.statusCode}: ${text.slice(0, 200)}`);
    const parsed = parseJson(text);
    if (parsed === undefined) throw new CoordinationError(`etcd ${endpoint}${path}: answer is not JSON`);
    return parsed as T;
  }

  async #authenticate(endpoint: string, timeout: number): Promise<void> {
    const answer = await request(`${endpoint.replace(/\/+$/, '')}/v3/auth/authenticate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: this.#s.username, password: this.#s.password ?? '' }),
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
    const parsed = parseJson(await answer.body.text()) as { token?: string } | undefined;
    if (answer.statusCode !== 200 || parsed?.token === undefined) throw new CoordinationError(`etcd ${endpoint}: authentication as ${this.#s.username ?? ''} failed (HTTP ${answer.statusCode})`);
    this.#token = parsed.token;
  }
}

function leaderOf(kv: Kv | undefined): LeaderRecord | undefined {
  if (kv?.value === undefined) return undefined;
  const v = parseJson(unb64(kv.value)) as { id?: unknown; url?: unknown } | undefined;
  if (typeof v?.id !== 'string' || typeof v.url !== 'string') return undefined;
  return { id: v.id, url: v.url, term: Number(kv.create_revision ?? 0) };
}

/** The range end that selects every key with `prefix` (etcd's "prefix end": the last byte + 1). */
function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

function b64(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64');
}

function unb64(s: string): string {
  return Buffer.from(s, 'base64').toString('utf8');
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
