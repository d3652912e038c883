/**
 * The file_sd source on real files: Prometheus' JSON and YAML formats, a
 * glob, a file renamed into place and one edited in place (seen through the
 * directory watch, long before the refresh interval), a half-written file
 * (kept out: the last good set stays), and a file that disappears.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSdSource } from '../../../src/membership/sources/file-sd-source.js';
import { parseFileSd, FileSdFormatError } from '../../../src/membership/sources/file-sd-format.js';
import { waitFor } from '../../support/wait-for.js';
import { RecordingSink } from './recording-sink.js';

test('the file_sd format: targets with their group labels and the file path; anything else is refused with a reason', () => {
  assert.deepEqual(parseFileSd('[{"targets": ["a:1", "b:2"], "labels": {"zone": "eu", "__address__": "x"}}, {"targets": ["c:3"]}]', '/sd/x.json'), [
    { address: 'a:1', labels: { zone: 'eu', filepath: '/sd/x.json' } },
    { address: 'b:2', labels: { zone: 'eu', filepath: '/sd/x.json' } },
    { address: 'c:3', labels: { filepath: '/sd/x.json' } },
  ]);
  assert.deepEqual(parseFileSd('- targets: ["a:1"]\n  labels: { zone: us }\n', '/sd/x.yml'), [{ address: 'a:1', labels: { zone: 'us', filepath: '/sd/x.yml' } }]);
  assert.deepEqual(parseFileSd('[]', '/sd/x.json'), []);
  for (const [text, why] of [
    ['', /empty file/],
    ['[{"targets": ["a:1"]', /x.json/],
    ['{"targets": ["a:1"]}', /a list of target groups/],
    ['[{"targets": ["nope"]}]', /not host:port/],
    ['[{"targets": ["a:1"], "labels": {"1x": "v"}}]', /invalid label name/],
    ['[{"targets": ["a:1"], "extra": 1}]', /unknown key extra/],
  ] as const) {
    assert.throws(() => parseFileSd(text, '/sd/x.json'), (err) => err instanceof FileSdFormatError && why.test(err.message), text);
  }
});

test('files matching the glob are watched: renamed into place, edited in place, half-written, removed', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'shardgate-filesd-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'a.json'), JSON.stringify([{ targets: ['a:1'] }]));
  await writeFile(join(dir, 'ignored.txt'), 'not matched');
  // A refresh interval far beyond the test: every change below is seen through the watch.
  const source = new FileSdSource({ files: [join(dir, '*.json')], refreshIntervalMs: 3_600_000, settleMs: 20 });
  t.after(() => source.stop());
  const sink = new RecordingSink();
  await source.start(sink);
  assert.deepEqual(sink.addresses(), ['a:1'], 'the first answer is there when start() resolves');

  // Renamed into place, as Prometheus' writers (and shardgate's --sd.file) do.
  await writeFile(join(dir, '.b.json.tmp'), JSON.stringify([{ targets: ['b:1'], labels: { zone: 'eu' } }]));
  await rename(join(dir, '.b.json.tmp'), join(dir, 'b.json'));
  await waitFor(() => sink.addresses()?.join() === 'a:1,b:1', { what: 'b.json renamed into place' });
  const last = sink.last();
  assert.deepEqual(last?.kind === 'update' && last.targets.find((x) => x.address === 'b:1')?.labels, { zone: 'eu', filepath: join(dir, 'b.json') });

  // Edited in place.
  await writeFile(join(dir, 'a.json'), JSON.stringify([{ targets: ['a:1', 'a:2'] }]));
  await waitFor(() => sink.addresses()?.join() === 'a:1,a:2,b:1', { what: 'a.json edited in place' });

  // Half-written: a failure with the reason, no update (the glue keeps the last good set).
  const updates = sink.reports.filter((r) => r.kind === 'update').length;
  await writeFile(join(dir, 'a.json'), '[{"targets": ["a:1", ');
  await waitFor(() => sink.last()?.kind === 'failed', { what: 'the half-written file to be reported' });
  const failure = sink.last();
  assert.match(failure?.kind === 'failed' ? failure.reason : '', /a\.json/);
  assert.equal(sink.reports.filter((r) => r.kind === 'update').length, updates);

  // Fixed, then a file removed: its targets go.
  await writeFile(join(dir, 'a.json'), JSON.stringify([{ targets: ['a:1'] }]));
  await waitFor(() => sink.addresses()?.join() === 'a:1,b:1', { what: 'a.json fixed' });
  await unlink(join(dir, 'b.json'));
  await waitFor(() => sink.addresses()?.join() === 'a:1', { what: 'b.json removed' });
});

test('a directory that appears later is read at the next refresh', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'shardgate-filesd-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const source = new FileSdSource({ files: [join(dir, 'later', 'pg.yml')], refreshIntervalMs: 100 });
  t.after(() => source.stop());
  const sink = new RecordingSink();
  await source.start(sink);
  assert.deepEqual(sink.addresses(), [], 'no file yet: an empty answer (the glue ignores it)');
  await mkdir(join(dir, 'later'));
  await writeFile(join(dir, 'later', 'pg.yml'), '- targets: ["x:1"]\n');
  await waitFor(() => sink.addresses()?.join() === 'x:1', { what: 'the new directory to be read' });
});

test('a Kubernetes ConfigMap volume update (the ..data symlink swapped by rename) is seen through the watch', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'shardgate-filesd-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // The kubelet's layout: pg.json -> ..data/pg.json, ..data -> ..<timestamp>/ (AtomicWriter).
  await mkdir(join(dir, '..v1'));
  await writeFile(join(dir, '..v1', 'pg.json'), JSON.stringify([{ targets: ['a:1'] }]));
  await symlink('..v1', join(dir, '..data'));
  await symlink(join('..data', 'pg.json'), join(dir, 'pg.json'));
  const source = new FileSdSource({ files: [join(dir, '*.json')], refreshIntervalMs: 3_600_000, settleMs: 20 });
  t.after(() => source.stop());
  const sink = new RecordingSink();
  await source.start(sink);
  assert.deepEqual(sink.addresses(), ['a:1']);
  await mkdir(join(dir, '..v2'));
  await writeFile(join(dir, '..v2', 'pg.json'), JSON.stringify([{ targets: ['b:1'] }]));
  await symlink('..v2', join(dir, '..data_tmp'));
  await rename(join(dir, '..data_tmp'), join(dir, '..data'));
  await waitFor(() => sink.addresses()?.join() === 'b:1', { what: 'the swapped ConfigMap content' });
});
