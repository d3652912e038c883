/**
 * Basic auth against bcrypt hashes: right, wrong and unknown credentials;
 * a verified credential is answered from the cache (synchronously, no bcrypt);
 * concurrent first requests share one bcrypt check. Prints the measured cost
 * of a check with and without the cache (not asserted: no timing assertions).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import bcrypt from 'bcryptjs';
import { BasicAuth, isBcryptHash } from '../../src/web/basic-auth.js';

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

test('basic auth: bcrypt once per credential, then the cache', async () => {
  const users = new Map([['pusher', bcrypt.hashSync('s3cret', 10).replace(/^\$2b\$/, '$2y$')]]);
  const auth = new BasicAuth();
  assert.equal(auth.check(users, undefined), false, 'no header');
  assert.equal(auth.check(users, 'Bearer x'), false, 'not basic');
  assert.equal(await auth.check(users, basic('pusher', 'wrong')), false);
  assert.equal(await auth.check(users, basic('nobody', 's3cret')), false, 'unknown user');

  const started = performance.now();
  const first = auth.check(users, basic('pusher', 's3cret'));
  assert.ok(first instanceof Promise, 'the first check runs bcrypt');
  assert.equal(await first, true);
  const uncachedMs = performance.now() - started;

  const cachedStart = performance.now();
  const rounds = 10_000;
  for (let i = 0; i < rounds; i++) assert.equal(auth.check(users, basic('pusher', 's3cret')), true, 'answered from the cache, synchronously');
  const cachedUs = ((performance.now() - cachedStart) * 1000) / rounds;
  console.log(`bcrypt cost 10: first check ${uncachedMs.toFixed(1)} ms; cached check ${cachedUs.toFixed(2)} µs`);

  // A changed hash (a reload with a new password) is not served from the old entry.
  const changed = new Map([['pusher', bcrypt.hashSync('n3w', 4)]]);
  assert.equal(await auth.check(changed, basic('pusher', 's3cret')), false);
  assert.equal(await auth.check(changed, basic('pusher', 'n3w')), true);
});

test('basic auth: concurrent first requests share one bcrypt check', async () => {
  const users = new Map([['pusher', bcrypt.hashSync('s3cret', 4)]]);
  const auth = new BasicAuth();
  const checks = Array.from({ length: 8 }, () => auth.check(users, basic('pusher', 's3cret')));
  assert.equal(new Set(checks).size, 1, 'one shared promise');
  assert.deepEqual(await Promise.all(checks), Array(8).fill(true));
});

test('bcrypt hash formats: $2a$, $2b$, $2y$ (htpasswd) accepted; anything else refused', () => {
  const h = bcrypt.hashSync('x', 4);
  for (const v of ['2a', '2b', '2y']) assert.ok(isBcryptHash(h.replace(/^\$2.\$/, `$${v}$`)), v);
  assert.ok(!isBcryptHash('plaintext'));
  assert.ok(!isBcryptHash('$2y$10$short'));
});
