/**
 * kubectl, client side only: what works without an API server.
 *  - `kubectl kustomize DIR` renders a kustomization.
 *  - `kubectl set ... --local -o json` decodes each object into kubectl's
 *    built-in typed scheme and encodes it again: an unknown apiVersion/kind or
 *    a wrongly typed field fails ("unable to decode"), and an unknown field
 *    (a typo) is silently dropped, which a subset comparison then reveals.
 * `apply`/`create --dry-run=client` need API discovery and schema validation
 * needs the server's OpenAPI document: neither works offline.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { obj, str, list, type JsonObject } from './json-shape.js';

export interface KubectlResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

// A HOME of its own, so no user kubeconfig or cache is read or written.
const home = mkdtempSync(join(tmpdir(), 'shardgate-kubectl-'));

export function hasKubectl(): boolean {
  return spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
}

export function kubectl(args: readonly string[], input?: string): KubectlResult {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
  delete env['KUBECONFIG'];
  const r = spawnSync('kubectl', args, { encoding: 'utf8', input, env, timeout: 30_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? String(r.error ?? '') };
}

/** The objects `kubectl kustomize dir` renders, parsed. */
export function kustomize(dir: string): JsonObject[] {
  const r = kubectl(['kustomize', dir]);
  if (r.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${r.stderr}`);
  return parseAllDocuments(r.stdout).map((d, i) => obj(d.toJSON(), `document ${i}`));
}

/**
 * `o` after kubectl's typed decode and encode, or kubectl's error. Only kinds
 * that a no-op `kubectl set` command accepts can be round-tripped: workloads
 * with a pod template (`set serviceaccount`, which adds nothing but that
 * field) and Services (`set selector` with their own selector).
 */
export function typedRoundTrip(o: JsonObject): { ok: true; object: JsonObject } | { ok: false; error: string } {
  const kind = str(o['kind'], 'kind');
  let args: string[];
  if (kind === 'Service') {
    const selector = obj(obj(o['spec'], 'spec')['selector'], 'spec.selector');
    args = ['set', 'selector', Object.entries(selector).map(([k, v]) => `${k}=${str(v, `selector ${k}`)}`).join(',')];
  } else if (kind === 'Deployment' || kind === 'StatefulSet' || kind === 'DaemonSet') {
    const current = obj(obj(obj(o['spec'], 'spec')['template'], 'template')['spec'], 'pod spec')['serviceAccountName'];
    args = ['set', 'serviceaccount', typeof current === 'string' ? current : 'default'];
  } else {
    throw new Error(`no no-op kubectl set command for kind ${kind}`);
  }
  const r = kubectl([...args, '--local', '-o', 'json', '-f', '-'], JSON.stringify(o));
  if (r.status !== 0) return { ok: false, error: r.stderr.trim() };
  return { ok: true, object: obj(JSON.parse(r.stdout), `${kind} from kubectl`) };
}

/** Container specs of a workload's pod template. */
export function containersOf(workload: JsonObject): JsonObject[] {
  const pod = obj(obj(obj(workload['spec'], 'spec')['template'], 'spec.template')['spec'], 'spec.template.spec');
  return list(pod['containers'], 'containers').map((c, i) => obj(c, `containers[${i}]`));
}
