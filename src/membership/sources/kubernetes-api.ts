/**
 * How shardgate reaches the Kubernetes API server: in-cluster (the pod's
 * service account) or explicit (`api_server` + token + CA, or a kubeconfig
 * file). Resolved once when the config is loaded; the token file is re-read
 * on every request, since bound service-account tokens rotate
 * (https://kubernetes.io/docs/tasks/run-application/access-api-from-pod/#directly-accessing-the-rest-api).
 *
 * Plain undici requests, not `@kubernetes/client-node`: its 2.x needs
 * undici 8 (Node ≥ 22.19) and carries ~15 dependencies (ws, openid-client,
 * js-yaml, tar-fs …) for two GET endpoints.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { Agent, request, type Dispatcher } from 'undici';
import { hostPort } from './label-name.js';
import { obj, str } from './json-fields.js';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubernetesApiSettings {
  /** `https://host:port` */
  readonly server: string;
  readonly token: { readonly file: string } | { readonly value: string } | undefined;
  readonly ca: string | undefined;
  readonly cert: string | undefined;
  readonly key: string | undefined;
  readonly insecureSkipVerify: boolean;
  /** The namespace the credentials point at (in-cluster: the pod's; kubeconfig: the context's). */
  readonly defaultNamespace: string | undefined;
}

export class KubernetesConfigError extends Error {
  override readonly name = 'KubernetesConfigError';
  readonly code = 'SHARDGATE_BAD_CONFIG';
}

/** In-cluster: KUBERNETES_SERVICE_HOST/PORT and the mounted service account. */
export function inClusterSettings(env: NodeJS.ProcessEnv = process.env, dir = SERVICE_ACCOUNT_DIR): KubernetesApiSettings {
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'];
  if (!host || !port) throw new KubernetesConfigError('not running in a cluster (KUBERNETES_SERVICE_HOST/PORT unset): set api_server or kubeconfig_file');
  return {
    server: `https://${hostPort(host, Number(port))}`,
    token: { file: `${dir}/token` },
    ca: readOptional(`${dir}/ca.crt`),
    cert: undefined,
    key: undefined,
    insecureSkipVerify: false,
    defaultNamespace: readOptional(`${dir}/namespace`)?.trim(),
  };
}

/**
 * A kubeconfig file's current context (https://kubernetes.io/docs/concepts/configuration/organize-cluster-access-kubeconfig/):
 * cluster `server`, `certificate-authority(-data)`, `insecure-skip-tls-verify`;
 * user `token`, `tokenFile`, `client-certificate(-data)`, `client-key(-data)`.
 * Exec and auth-provider plugins are not supported.
 */
export function kubeconfigSettings(path: string, context?: string): KubernetesApiSettings {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new KubernetesConfigError(`kubeconfig ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const base = dirname(path);
  const root = obj(doc);
  const ctxName = context ?? str(root['current-context']);
  const ctx = obj(named(root['contexts'], ctxName)?.['context']);
  const cluster = obj(named(root['clusters'], str(ctx['cluster']))?.['cluster']);
  const user = obj(named(root['users'], str(ctx['user']))?.['user']);
  const server = str(cluster['server']);
  if (!server) throw new KubernetesConfigError(`kubeconfig ${path}: context ${JSON.stringify(ctxName)} has no cluster server`);
  if (user['exec'] !== undefined || user['auth-provider'] !== undefined) throw new KubernetesConfigError(`kubeconfig ${path}: exec and auth-provider credentials are not supported; use a token`);
  const file = (k: string): string | undefined => {
    const data = str(cluster[`${k}-data`]) || str(user[`${k}-data`]);
    if (data) return Buffer.from(data, 'base64').toString('utf8');
    const p = str(cluster[k]) || str(user[k]);
    return p ? readRequired(isAbsolute(p) ? p : resolve(base, p)) : undefined;
  };
  const tokenFile = str(user['tokenFile']);
  return {
    server,
    token: str(user['token']) ? { value: str(user['token']) } : tokenFile ? { file: isAbsolute(tokenFile) ? tokenFile : resolve(base, tokenFile) } : undefined,
    ca: file('certificate-authority'),
    cert: file('client-certificate'),
    key: file('client-key'),
    insecureSkipVerify: cluster['insecure-skip-tls-verify'] === true,
    defaultNamespace: str(ctx['namespace']) || undefined,
  };
}

export class KubernetesApi {
  readonly #settings: KubernetesApiSettings;
  readonly #agent: Dispatcher;

  constructor(settings: KubernetesApiSettings) {
    this.#settings = settings;
    this.#agent = new Agent({
      connect: { ca: settings.ca, cert: settings.cert, key: settings.key, rejectUnauthorized: !settings.insecureSkipVerify },
    });
  }

  get server(): string {
    return this.#settings.server;
  }

  /** A GET with the bearer token; the caller reads (or dumps) the body. */
  async get(path: string, opts: { signal: AbortSignal; headersTimeoutMs: number; bodyTimeoutMs: number }): Promise<Dispatcher.ResponseData> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = this.#token();
    if (token) headers['authorization'] = `Bearer ${token}`;
    return request(`${this.#settings.server.replace(/\/+$/, '')}${path}`, {
      method: 'GET', headers, dispatcher: this.#agent, signal: opts.signal, headersTimeout: opts.headersTimeoutMs, bodyTimeout: opts.bodyTimeoutMs,
    });
  }

  close(): Promise<void> {
    return this.#agent.close();
  }

  #token(): string | undefined {
    const t = this.#settings.token;
    if (t === undefined) return undefined;
    if ('value' in t) return t.value;
    return readFileSync(t.file, 'utf8').trim();
  }
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function readRequired(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new KubernetesConfigError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

function named(list: unknown, name: string): Record<string, unknown> | undefined {
  if (!Array.isArray(list)) return undefined;
  const found: unknown = list.find((e: unknown) => obj(e)['name'] === name);
  return found === undefined ? undefined : obj(found);
}
