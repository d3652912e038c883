/**
 * The Dockerfile, checked without a Docker engine (none runs here, and base
 * images cannot be pulled): what it copies exists and is not excluded by
 * .dockerignore, the runtime stage needs only production dependencies, the
 * dist/src layout it ships runs on its own, and its HEALTHCHECK command
 * passes against a live shardgate and fails against a closed port.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { cp, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DEFAULTS } from '../../src/config/config.js';
import { freePort } from '../../src/local/free-port.js';
import { startShardgate } from '../support/shardgate.js';
import { obj, str } from '../support/json-shape.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const run = promisify(execFile);
const lines = readFileSync(join(ROOT, 'Dockerfile'), 'utf8')
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));
const stages = lines.reduce<string[][]>((acc, l) => (l.startsWith('FROM ') ? [...acc, [l]] : [...acc.slice(0, -1), [...(acc.at(-1) ?? []), l]]), []);
const runtime = stages.at(-1) ?? assert.fail('no stage');
const instruction = (stage: readonly string[], name: string): string[] => stage.filter((l) => l.startsWith(`${name} `)).map((l) => l.slice(name.length + 1).trim());
const execForm = (s: string): string[] => {
  const parsed: unknown = JSON.parse(s);
  assert.ok(Array.isArray(parsed) && parsed.every((x) => typeof x === 'string'), `not an exec-form list: ${s}`);
  return parsed.map(String);
};
const pkg = obj(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')), 'package.json');

test('two stages on node:20-slim; the runtime stage runs as a non-root user and installs production dependencies only', () => {
  assert.equal(stages.length, 2);
  for (const s of stages) assert.match(s[0] ?? '', /^FROM node:20-slim\b/);
  const user = instruction(runtime, 'USER');
  assert.equal(user.length, 1);
  assert.doesNotMatch(user[0] ?? '', /^(root|0)(:|$)/);
  assert.ok(instruction(runtime, 'RUN').some((r) => /npm ci .*--omit=dev/.test(r)));
  assert.deepEqual(instruction(runtime, 'EXPOSE'), [DEFAULTS.listenAddress.replace(':', '')]);
});

test('everything the Dockerfile copies from the build context exists and is not in .dockerignore', () => {
  const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const copies = stages.flatMap((s) => instruction(s, 'COPY')).filter((c) => !c.startsWith('--from='));
  assert.ok(copies.length > 0);
  for (const c of copies) {
    const sources = c.split(/\s+/).slice(0, -1);
    for (const src of sources) {
      assert.ok(existsSync(join(ROOT, src)), `COPY source ${src} missing`);
      assert.ok(!ignored.some((pattern) => pattern === src || pattern === src.split('/')[0]), `COPY source ${src} is excluded by .dockerignore`);
    }
  }
});

test('the compiled src/ imports only Node built-ins, its own files and production dependencies', () => {
  const deps = new Set(Object.keys(obj(pkg['dependencies'], 'dependencies')));
  const files = readdirSync(join(ROOT, 'dist/src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'));
  const outside: string[] = [];
  for (const f of files) {
    const code = readFileSync(join(ROOT, 'dist/src', f), 'utf8');
    // Static imports and re-exports (possibly over several lines), side-effect imports, dynamic imports.
    const specifiers = [...code.matchAll(/^(?:import|export)\s[^;]*?\sfrom\s+'([^']+)'/gms), ...code.matchAll(/^import\s+'([^']+)'/gm), ...code.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)];
    for (const m of specifiers) {
      const spec = m[1] ?? '';
      if (spec.startsWith('.')) {
        if (!join('src', f, '..', spec).startsWith('src')) outside.push(`${f}: ${spec}`);
        continue;
      }
      const bare = spec.replace(/^node:/, '');
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] ?? spec);
      if (!builtinModules.includes(bare) && !deps.has(name)) outside.push(`${f}: ${spec}`);
    }
  }
  assert.ok(files.length > 10);
  assert.deepEqual(outside, []);
});

test('the image\'s layout (package.json beside dist/src) runs, and its HEALTHCHECK passes on a live shardgate only', async (t) => {
  // The runtime stage's files, in a temp dir standing in for /app.
  const app = await mkdtemp(join(tmpdir(), 'shardgate-image-'));
  t.after(() => rm(app, { recursive: true, force: true }));
  await cp(join(ROOT, 'dist/src'), join(app, 'dist/src'), { recursive: true });
  await writeFile(join(app, 'package.json'), JSON.stringify(pkg));
  await symlink(join(ROOT, 'node_modules'), join(app, 'node_modules'));
  const [entry, ...entryArgs] = execForm(instruction(runtime, 'ENTRYPOINT')[0] ?? assert.fail('no ENTRYPOINT'));
  assert.equal(entry, 'node');
  const version = await run(process.execPath, [...entryArgs, '--version'], { cwd: app });
  assert.match(version.stdout, new RegExp(`^shardgate ${str(pkg['version'], 'version')} `));

  const check = instruction(runtime, 'HEALTHCHECK')[0] ?? assert.fail('no HEALTHCHECK');
  const cmd = execForm(check.slice(check.indexOf('CMD ') + 4));
  assert.equal(cmd[0], 'node');
  const healthcheck = (port: number): Promise<number> =>
    run(process.execPath, cmd.slice(1).map((a) => a.replace(':9292/', `:${port}/`))).then(() => 0, (err: { code?: number }) => err.code ?? -1);
  assert.ok(cmd.some((a) => a.includes('127.0.0.1:9292/-/healthy')));
  // /-/healthy needs no healthy shard: a closed port is target enough.
  const sg = await startShardgate({ config: `targets: ["127.0.0.1:${await freePort()}"]\n` });
  t.after(() => sg.stop());
  assert.equal(await healthcheck(sg.port), 0);
  assert.equal(await healthcheck(await freePort()), 1);
});
