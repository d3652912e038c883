import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionCounter } from '../../src/http/connection-limits.js';

test('total and per-address caps; refused connections are not counted; release frees a slot', () => {
  const counter = new ConnectionCounter();
  const settings = { maxConnections: 3, maxConnectionsPerIp: 2 };
  assert.equal(counter.admit('a', settings), undefined);
  assert.equal(counter.admit('a', settings), undefined);
  assert.equal(counter.admit('a', settings)?.code, 'SHARDGATE_TOO_MANY_CONNECTIONS_FROM_CLIENT');
  assert.equal(counter.admit('b', settings), undefined);
  assert.equal(counter.admit('c', settings)?.code, 'SHARDGATE_TOO_MANY_CONNECTIONS');
  assert.equal(counter.open, 3);
  counter.release('a');
  assert.equal(counter.admit('a', settings), undefined);
  assert.equal(counter.admit('a', { maxConnections: 10, maxConnectionsPerIp: 0 }), undefined, '0 means no per-address cap');
});
