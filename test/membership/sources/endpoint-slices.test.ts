import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endpointTargets } from '../../../src/membership/sources/endpoint-slices.js';
import { serviceEntries } from '../../../src/membership/sources/consul-source.js';
import { endpointSlice } from '../../support/kubernetes-fake.js';

test('EndpointSlices: an address in two slices is one target and ready wins over terminating; IPv6 gets brackets; a slice without endpoints needs no port', () => {
  const targets = endpointTargets([
    endpointSlice('old', { endpoints: [{ ip: '10.0.0.1', ready: false, serving: true, terminating: true }] }),
    endpointSlice('new', { endpoints: [{ ip: '10.0.0.1', ready: true }, { ip: 'fd00::7' }] }),
    endpointSlice('empty', { endpoints: [], ports: [{ name: 'a', port: 1 }, { name: 'b', port: 2 }] }),
  ], undefined);
  assert.deepEqual(targets.map((t) => [t.address, t.terminating ?? false]), [['10.0.0.1:9091', false], ['[fd00::7]:9091', false]]);
});

test('EndpointSlices: a missing port name is an error naming the slice and its ports', () => {
  assert.throws(() => endpointTargets([endpointSlice('s', { endpoints: [{ ip: '10.0.0.1' }] })], 'metrics'), /EndpointSlice s has no port named "metrics" \(has http\)/);
});

test('Consul entries: a malformed answer is an error (reported as a failure), never an empty set', () => {
  assert.throws(() => serviceEntries({}, 'pg'), /not a list/);
  assert.throws(() => serviceEntries([{ Node: { Address: '10.0.0.1' }, Service: { Port: 0 } }], 'pg'), /no usable address or port/);
  assert.throws(() => serviceEntries([{ Service: { Address: 'a', Port: 1 } }], 'pg'), /without Node/);
  assert.deepEqual(serviceEntries([], 'pg'), []);
});

test('Consul entries: the same address twice (two service IDs) is one target', () => {
  const e = (id: string) => ({ Node: { Node: 'n', Address: '10.0.0.9', Datacenter: 'dc1' }, Service: { ID: id, Address: '', Port: 9091, Tags: [], Meta: {} } });
  assert.deepEqual(serviceEntries([e('x'), e('y')], 'pg').map((t) => t.address), ['10.0.0.9:9091']);
});
