import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { boundedGunzip } from '../../src/proxy/bounded-gunzip.js';

test('decodes concatenated members, as Go does', async () => {
  const body = Buffer.concat([gzipSync('a 1\n'), gzipSync('b 2\n')]);
  assert.deepEqual(await boundedGunzip(body, 100), { kind: 'ok', bytes: Buffer.from('a 1\nb 2\n') });
});

test('a gzip bomb stops at the bound instead of being decompressed', async () => {
  const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
  assert.ok(bomb.length < 100_000);
  assert.deepEqual(await boundedGunzip(bomb, 1024 * 1024), { kind: 'too-large' });
});

test('corrupt, empty, truncated and trailing-garbage bodies are errors', async () => {
  for (const body of [Buffer.from('not gzip'), Buffer.alloc(0), gzipSync('abc').subarray(0, 12), Buffer.concat([gzipSync('abc'), Buffer.from('xx')])]) {
    const out = await boundedGunzip(body, 100);
    assert.equal(out.kind, 'corrupt', body.toString('hex'));
  }
});
