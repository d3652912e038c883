/** `push.consistency_check` and `push.index_resync_interval` in the config file. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, ConfigError } from '../../src/config/load-config.js';

test('consistency_check is gateway, shard or off; unset stays undefined (main.ts picks the default per command)', () => {
  assert.equal(parseConfig('push: { consistency_check: gateway }\n').push.consistencyCheck, 'gateway');
  assert.equal(parseConfig('push: { consistency_check: off }\n').push.consistencyCheck, 'off');
  assert.equal(parseConfig('').push.consistencyCheck, undefined);
  assert.equal(parseConfig('').push.indexResyncIntervalMs, 60_000);
  assert.equal(parseConfig('push: { index_resync_interval: 5s }\n').push.indexResyncIntervalMs, 5_000);
  assert.throws(() => parseConfig('push: { consistency_check: both }\n'), ConfigError);
  assert.throws(() => parseConfig('push: { check: gateway }\n'), /push\.check: unknown key/);
});
