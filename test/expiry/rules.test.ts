import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSelector } from '../../src/expiry/selector.js';
import { decideExpiry, ruleFor, type ExpirySettings } from '../../src/expiry/rules.js';
import { parseConfig, ConfigError } from '../../src/config/load-config.js';

const settings = (defaultMaxAgeMs?: number): ExpirySettings => ({
  intervalMs: 1000,
  rules: [
    { selector: parseSelector('{job=~"batch-.*", env!="prod"}'), maxAgeMs: 3_600_000 },
    { selector: parseSelector('{job=~"batch-.*"}'), maxAgeMs: 86_400_000 },
  ],
  defaultMaxAgeMs,
});

test('the first matching rule wins; the default applies to the rest, if set', () => {
  assert.equal(ruleFor(settings(), { job: 'batch-a', env: 'stg' })?.maxAgeMs, 3_600_000);
  assert.equal(ruleFor(settings(), { job: 'batch-a', env: 'prod' })?.maxAgeMs, 86_400_000);
  assert.equal(ruleFor(settings(), { job: 'batch-a' })?.name, '{job=~"batch-.*", env!="prod"}');
  assert.equal(ruleFor(settings(), { job: 'web' }), undefined);
  assert.deepEqual(ruleFor(settings(60_000), { job: 'web' }), { name: 'default', maxAgeMs: 60_000 });
});

test('the age runs from the last client push when known, else from push_time_seconds', () => {
  const s = settings();
  const labels = { job: 'batch-a' };
  const hour = 3_600_000;
  // Moved 10 minutes ago (push_time re-stamped), last pushed by a client 2 hours ago: expired.
  const moved = decideExpiry(s, labels, { lastClientPushMs: 0, pushTimeSeconds: (2 * hour - 600_000) / 1000 }, 2 * hour);
  assert.deepEqual(moved, { rule: { name: '{job=~"batch-.*", env!="prod"}', maxAgeMs: hour }, expiresAtMs: hour, expired: true });
  // Unknown to this process (restarted): push_time_seconds decides.
  assert.equal(decideExpiry(s, labels, { lastClientPushMs: undefined, pushTimeSeconds: 1000 }, 1000_000 + hour).expired, false);
  assert.equal(decideExpiry(s, labels, { lastClientPushMs: undefined, pushTimeSeconds: 1000 }, 1000_000 + hour + 1).expired, true);
  // Not before its age: exactly at the expiry time it stays.
  assert.equal(decideExpiry(s, labels, { lastClientPushMs: 5, pushTimeSeconds: undefined }, 5 + hour).expired, false);
  // Nothing known, or no rule: never.
  assert.deepEqual(decideExpiry(s, labels, { lastClientPushMs: undefined, pushTimeSeconds: undefined }, 1e15).expired, false);
  assert.deepEqual(decideExpiry(s, { job: 'web' }, { lastClientPushMs: 0, pushTimeSeconds: 0 }, 1e15), { rule: undefined, expiresAtMs: undefined, expired: false });
});

test('the expiry block loads, and bad selectors or ages are named', () => {
  const cfg = parseConfig(`targets: [a:9091]
expiry:
  interval: 30s
  rules:
    - match: '{job=~"batch-.*", env!="prod"}'
      max_age: 1h
  default: 24h
`);
  assert.equal(cfg.expiry?.intervalMs, 30_000);
  assert.equal(cfg.expiry?.defaultMaxAgeMs, 86_400_000);
  assert.equal(cfg.expiry?.rules[0]?.maxAgeMs, 3_600_000);
  assert.equal(ruleFor(cfg.expiry ?? settings(), { job: 'batch-x' })?.maxAgeMs, 3_600_000);
  assert.equal(parseConfig('targets: [a:9091]\nexpiry: {}\n').expiry?.defaultMaxAgeMs, undefined);
  assert.equal(parseConfig('targets: [a:9091]\n').expiry, undefined);
  assert.throws(
    () => parseConfig('targets: [a:9091]\nexpiry:\n  rules:\n    - {match: "{job=~\\"(\\"}", max_age: 1h}\n    - {match: "{job=\\"a\\"}", max_age: 0s}\n'),
    (err: unknown) => err instanceof ConfigError && /expiry\.rules\.0\.match: invalid selector .*invalid regex/.test(err.message) && /expiry\.rules\.1\.max_age: must be greater than 0/.test(err.message),
  );
  assert.throws(() => parseConfig('targets: [a:9091]\nexpiry: {rules: [{match: "{job=\\"a\\"}"}]}\n'), /expiry\.rules\.0\.max_age/);
  assert.throws(() => parseConfig('targets: [a:9091]\nexpiry: {ttl: 1h}\n'), /expiry\.ttl: unknown key/);
});
