import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WriteJournal } from '../../src/rebalance/write-journal.js';

const key = (i: string): { job: string; instance: string } => ({ job: 'j', instance: i });

test('the journal holds the writes in flight when it opens and those routed until it closes, nothing else', () => {
  const j = new WriteJournal();
  j.begin('before-done', key('1'), 'a:1');
  j.end('before-done');
  j.begin('in-flight', key('2'), 'a:1');
  j.open();
  j.begin('during', key('3'), 'b:1');
  j.end('during');
  j.end('in-flight');
  const seen = j.close();
  assert.deepEqual([...seen.keys()].sort(), ['during', 'in-flight']);
  assert.equal(seen.get('during')?.target, 'b:1');
  j.begin('after', key('4'), 'a:1');
  assert.equal(j.close().size, 0, 'closed: nothing is recorded');
});

test('the last target of a group wins, and counts of concurrent writes balance', () => {
  const j = new WriteJournal();
  j.begin('g', key('1'), 'a:1');
  j.begin('g', key('1'), 'a:1');
  j.end('g');
  j.open();
  assert.equal(j.close().get('g')?.target, 'a:1', 'one of the two is still in flight');
  j.end('g');
  j.open();
  assert.equal(j.close().size, 0);
});
