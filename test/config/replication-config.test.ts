/** `replication` in the config file and `local --standby`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, ConfigError } from '../../src/config/load-config.js';
import { parseFlags } from '../../src/cli/flags.js';

test('replication is off unless enabled; enabled, it carries the standby targets', () => {
  assert.equal(parseConfig('').replication, undefined);
  assert.equal(parseConfig('replication: { standby_targets: ["b:9091"] }\n').replication, undefined);
  assert.deepEqual(parseConfig('replication: { enabled: true, standby_targets: ["b:9091", "c:9091"] }\n').replication, { standbyTargets: ['b:9091', 'c:9091'] });
  assert.deepEqual(parseConfig('replication: { enabled: true }\n').replication, { standbyTargets: [] });
});

test('a standby that is also a target, a duplicate standby or an unknown key stops start-up', () => {
  assert.throws(() => parseConfig('targets: ["a:9091"]\nreplication: { enabled: true, standby_targets: ["a:9091"] }\n'), /must not be scraped/);
  assert.throws(() => parseConfig('replication: { enabled: true, standby_targets: ["b:9091", "b:9091"] }\n'), /duplicate/);
  assert.throws(() => parseConfig('replication: { enable: true }\n'), ConfigError);
});

test('local --standby', () => {
  assert.equal(parseFlags(['local']).standby, false);
  assert.equal(parseFlags(['local', '--standby']).standby, true);
});
