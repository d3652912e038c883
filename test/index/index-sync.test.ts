/**
 * The index built from the shards' `/api/v1/metrics` (a real 1.5.1 group,
 * test/fixtures) describes the same series as the push path computes, and a
 * rebuild keeps what pushes changed while it read the shards.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { IndexSync, familiesFromApi } from '../../src/index/index-sync.js';
import { admitPush } from '../../src/index/consistency-check.js';
import { FleetIndex } from '../../src/index/fleet-index.js';
import { parseText } from '../../src/exposition/text-parser.js';
import { groupId } from '../../src/groupingkey/grouping-key.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { type ApiGroup } from '../../src/upstream/metrics-api.js';

const fixture = async (): Promise<ApiGroup[]> => JSON.parse(await readFile(new URL('../../../test/fixtures/api-v1-metrics-demo-group.json', import.meta.url), 'utf8')) as ApiGroup[];

test('series read from /api/v1/metrics equal the series the push path derives from the same push', async () => {
  const [group] = await fixture();
  assert.ok(group);
  const fromApi = familiesFromApi(group);
  const index = new FleetIndex();
  const key = { job: 'demo', instance: 'i1' };
  const verdict = admitPush(index, 'PUT', key, parseText(Buffer.from('# TYPE c counter\nc 1\n# TYPE h histogram\nh_bucket{x="a\\"b\\\\c\\nd",le="0.1"} 1\nh_bucket{x="a\\"b\\\\c\\nd",le="+Inf"} 3\nh_count{x="a\\"b\\\\c\\nd"} 3\nh_sum{x="a\\"b\\\\c\\nd"} NaN\n')));
  assert.ok(verdict.accepted);
  const pushed = index.group(groupId(key))?.families;
  for (const name of ['c', 'h', 'push_time_seconds', 'push_failure_time_seconds']) {
    assert.deepEqual(pushed?.get(name)?.series, fromApi.get(name)?.series, name);
    assert.equal(pushed?.get(name)?.type, fromApi.get(name)?.type, name);
  }
});

test('a rebuild keeps the entries of groups pushed while it read the shards', async () => {
  const groups = await fixture();
  let release!: () => void;
  const reading = new Promise<void>((r) => (release = r));
  let reads = 0;
  const sync = new IndexSync({
    shards: () => ['s1'],
    listGroups: async () => {
      if (reads++ > 0) await reading;
      return groups;
    },
    logger: silentLogger(),
    intervalMs: 60_000,
  });
  await sync.ready;
  assert.equal(sync.index.groupCount, groups.length);
  const rebuild = sync.resync();
  // A push accepted mid-read: a new group, and the fixture's group deleted.
  const key = { job: 'late' };
  sync.touched(groupId(key));
  assert.ok(admitPush(sync.index, 'PUT', key, parseText(Buffer.from('late 1\n'))).accepted);
  const demo = { job: 'demo', instance: 'i1' };
  sync.touched(groupId(demo));
  sync.index.setGroup(groupId(demo), undefined);
  release();
  await rebuild;
  assert.ok(sync.index.group(groupId(key)) !== undefined, 'the pushed group survived the rebuild');
  assert.equal(sync.index.group(groupId(demo)), undefined, 'the deleted group stayed deleted');
});
