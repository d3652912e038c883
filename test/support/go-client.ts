/**
 * Builds test/clients/go (the official Go client's push package, from
 * Debian's golang-github-prometheus-client-golang-dev) offline: GOPATH mode
 * over /usr/share/gocode, where Debian installs Go library sources, since no
 * module proxy is reachable. The binary and Go's build cache live in the temp
 * dir, keyed by the source and the Go version, so only the first build pays
 * (about 15 s on 2 cores); later runs reuse it.
 */
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const SOURCE = fileURLToPath(new URL('../../../test/clients/go/main.go', import.meta.url));
const GOPATH = '/usr/share/gocode';

/** Why the Go client cannot be built here, or undefined if it can. */
export function goClientUnavailable(): string | undefined {
  if (spawnSync('go', ['version']).status !== 0) return 'go is not installed (Debian: golang-go)';
  if (!existsSync(join(GOPATH, 'src/github.com/prometheus/client_golang/prometheus/push'))) return 'client_golang is not installed (Debian: golang-github-prometheus-client-golang-dev)';
  return undefined;
}

export async function buildGoClient(): Promise<string> {
  const goVersion = spawnSync('go', ['version'], { encoding: 'utf8' }).stdout;
  const key = createHash('sha256').update(readFileSync(SOURCE)).update(goVersion).digest('hex').slice(0, 16);
  const binary = join(tmpdir(), `shardgate-go-pushclient-${key}`);
  if (existsSync(binary)) return binary;
  const out = `${binary}.${process.pid}.tmp`;
  await promisify(execFile)('go', ['build', '-o', out, SOURCE], {
    env: { ...process.env, GO111MODULE: 'off', GOPATH, GOFLAGS: '', GOCACHE: join(tmpdir(), 'shardgate-go-cache') },
  });
  // Renamed into place, so a concurrent or interrupted build never leaves half a binary.
  await rename(out, binary);
  return binary;
}
