/**
 * A client that dies mid-body must not leave a half-written group: the
 * pushgateway sees a truncated request and rejects it, and the group keeps
 * its previous content. Raw sockets, because HTTP clients finish their bodies.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startPushgateway } from '../support/pushgateway.js';
import { startShardgate } from '../support/shardgate.js';
import { findGroup, familyNames, sampleValue } from '../support/pushgateway-api.js';
import { waitFor } from '../support/wait-for.js';

function abortMidBody(port: number, head: string, partialBody: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(head + partialBody, () => {
        // Give shardgate the bytes, then vanish without finishing the body.
        setImmediate(() => {
          socket.destroy();
          resolve();
        });
      });
    });
    socket.on('error', reject);
  });
}

test('a push aborted mid-body changes nothing (chunked, content-length, and a streamed large body)', async (t) => {
  const pg = await startPushgateway();
  t.after(() => pg.stop());
  const sg = await startShardgate({ config: `targets: ["${pg.target}"]\n`, waitReady: true });
  t.after(() => sg.stop());
  const labels = { job: 'aborted' };
  assert.equal((await fetch(`${sg.url}/metrics/job/aborted`, { method: 'PUT', body: 'before 1\nkept 2\n' })).status, 200);

  await abortMidBody(sg.port, 'PUT /metrics/job/aborted HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n', '9\r\nafter 99\n\r\n');
  await abortMidBody(sg.port, 'PUT /metrics/job/aborted HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n', 'after 99\n');
  // Larger than what shardgate buffers, so it streams: cut at a line boundary.
  let big = '';
  for (let i = 0; big.length < 1_500_000; i++) big += `big_metric_${i} ${i}\n`;
  await abortMidBody(sg.port, `PUT /metrics/job/aborted HTTP/1.1\r\nHost: x\r\nContent-Length: ${big.length + 100}\r\n\r\n`, big);
  // Both aborted requests are answered (whatever the code) on shardgate's side before we look.
  await waitFor(async () => (await putsAnswered(sg.url)) === 4, { what: 'aborted requests to finish' });
  const group = await findGroup(pg.url, labels);
  assert.deepEqual(familyNames(group), ['before', 'kept']);
  assert.equal(sampleValue(group, 'before'), '1');
  // And shardgate is fine afterwards.
  assert.equal((await fetch(`${sg.url}/metrics/job/aborted`, { method: 'PUT', body: 'after 3\n' })).status, 200);
  assert.deepEqual(familyNames(await findGroup(pg.url, labels)), ['after']);
});

async function putsAnswered(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let n = 0;
  for (const m of text.matchAll(/^shardgate_requests_total\{method="PUT",[^}]*\} (\d+)$/gm)) n += Number(m[1]);
  return n;
}
