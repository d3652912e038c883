import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFlags, splitListenAddress, FlagError } from '../../src/cli/flags.js';

test('Prometheus-style flags, both spellings', () => {
  const f = parseFlags(['--config.file=x.yml', '--web.listen-address', '127.0.0.1:0', '--web.enable-admin-api', '--log.format=json']);
  assert.equal(f.configFile, 'x.yml');
  assert.equal(f.configFileExplicit, true);
  assert.equal(f.listenAddress, '127.0.0.1:0');
  assert.equal(f.enableAdminApi, true);
  assert.equal(f.enableLifecycle, false);
  assert.equal(f.logFormat, 'json');
  assert.equal(f.command, 'serve');
});

test('local command and its flags', () => {
  const f = parseFlags(['local', '--shards=3', '--data.dir=/tmp/d', '--pushgateway.arg=--push.disable-consistency-check']);
  assert.equal(f.command, 'local');
  assert.equal(f.shards, 3);
  assert.deepEqual(f.pushgatewayArgs, ['--push.disable-consistency-check']);
});

test('bad flags name themselves', () => {
  assert.throws(() => parseFlags(['--log.format=xml']), (e: unknown) => e instanceof FlagError && e.message.includes('--log.format'));
  assert.throws(() => parseFlags(['--shards=0', 'local']), (e: unknown) => e instanceof FlagError && e.message.includes('--shards'));
  assert.throws(() => parseFlags(['--nope']), FlagError);
  assert.throws(() => parseFlags(['serve', 'x']), FlagError);
});

test('listen addresses', () => {
  assert.deepEqual(splitListenAddress(':9292'), { host: undefined, port: 9292 });
  assert.deepEqual(splitListenAddress('[::1]:80'), { host: '::1', port: 80 });
  assert.deepEqual(splitListenAddress('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
});
