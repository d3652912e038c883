/**
 * What clients see at the edges, compared with a real pushgateway where it
 * applies: requests Node's parser refuses (raw UTF-8 in the path, a bad
 * request line) get a status line and a reason like Go's; connections over
 * limits.max_connections / max_connections_per_ip get 503 / 429 and close.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { startPushgateway } from '../support/pushgateway.js';
import { startShardgate } from '../support/shardgate.js';
import { waitFor } from '../support/wait-for.js';

/** Sends bytes on a fresh connection and collects everything until it closes. */
function rawExchange(port: number, bytes: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(bytes));
    let data = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => (data += d));
    s.on('close', () => resolve(data));
    s.on('error', reject);
  });
}
const statusOf = (answer: string): string => answer.split('\r\n')[0] ?? '';
const bodyOf = (answer: string): string => answer.split('\r\n\r\n')[1] ?? '';

test('requests Node refuses get a Go-like 400 with a reason, not an empty body', async (t) => {
  const pg = await startPushgateway();
  t.after(() => pg.stop());
  const sg = await startShardgate({ config: `targets: ["${pg.target}"]\n`, waitReady: true });
  t.after(() => sg.stop());
  const pgPort = Number(pg.target.split(':')[1]);

  // A request line with two spaces: both refuse it.
  const doubleSpace = Buffer.from('PUT /metrics/job/x  HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\na 1\n');
  assert.equal(statusOf(await rawExchange(pgPort, doubleSpace)), 'HTTP/1.1 400 Bad Request');
  // Node accepts it (its parser gives no way to tell); a documented difference.
  const ours = await rawExchange(sg.port, Buffer.from('PUT /metrics/job/x  HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nConnection: close\r\n\r\na 1\n'));
  assert.equal(statusOf(ours), 'HTTP/1.1 200 OK');

  // Raw UTF-8 in the path: the pushgateway takes it, Node's parser cannot; shardgate says why.
  const raw = Buffer.concat([Buffer.from('PUT /metrics/job/'), Buffer.from('é', 'utf8'), Buffer.from(' HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\na 1\n')]);
  const refused = await rawExchange(sg.port, raw);
  assert.equal(statusOf(refused), 'HTTP/1.1 400 Bad Request');
  assert.match(bodyOf(refused), /percent-encode non-ASCII bytes in the path/);
  const badVersion = await rawExchange(sg.port, Buffer.from('PUT /metrics/job/x HTTP/9\r\n\r\n'));
  assert.equal(statusOf(badVersion), 'HTTP/1.1 400 Bad Request');
  assert.equal(bodyOf(badVersion), '400 Bad Request');
});

test('connection caps: over the per-address cap 429, over the total 503; freed slots admit again', async (t) => {
  const pg = await startPushgateway();
  t.after(() => pg.stop());
  const sg = await startShardgate({ config: `targets: ["${pg.target}"]\nlimits: { max_connections: 8, max_connections_per_ip: 2 }\n`, waitReady: true });
  t.after(() => sg.stop());
  const open: Socket[] = [];
  t.after(() => open.forEach((s) => s.destroy()));
  const idle = (host: string): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const s = connect({ port: sg.port, host: '127.0.0.1', localAddress: host }, () => resolve(s));
      s.on('error', reject);
      open.push(s);
    });
  const refusedBy = async (host: string): Promise<string> => {
    const res = await new Promise<string>((resolve, reject) => {
      const s = connect({ port: sg.port, host: '127.0.0.1', localAddress: host }, () => s.write('GET /-/healthy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
      let data = '';
      s.setEncoding('latin1');
      s.on('data', (d: string) => (data += d));
      s.on('close', () => resolve(data));
      s.on('error', reject);
    });
    return `${statusOf(res)} ${bodyOf(res).trim()}`;
  };
  const refusedCounts = async (): Promise<{ total: number; per_ip: number }> => {
    const text = await (await fetch(`${sg.url}/metrics`)).text();
    const count = (reason: string): number => Number(new RegExp(`^shardgate_refused_connections_total\\{reason="${reason}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    return { total: count('total'), per_ip: count('per_ip') };
  };

  // Two idle connections from 127.0.0.2 fill its share; a third from it is refused.
  await idle('127.0.0.2');
  await idle('127.0.0.2');
  assert.equal(await refusedBy('127.0.0.2'), 'HTTP/1.1 429 Too Many Requests too many open connections from 127.0.0.2 (limit 2); retry later');
  // Idle connections from other addresses fill the total (the test's own
  // keep-alive connections count too, so fill until a probe is refused).
  let answer = '';
  for (let host = 3; host < 20; host++) {
    answer = await refusedBy('127.0.0.250');
    if (!answer.startsWith('HTTP/1.1 200')) break;
    await idle(`127.0.0.${host}`);
  }
  assert.equal(answer, 'HTTP/1.1 503 Service Unavailable too many open connections (limit 8); retry later');
  // Closing one frees a slot.
  open.shift()?.destroy();
  await waitFor(async () => (await refusedBy('127.0.0.250')).startsWith('HTTP/1.1 200'), { what: 'a freed slot' });
  const metrics = await refusedCounts();
  assert.equal(metrics.per_ip, 1);
  assert.ok(metrics.total >= 1);
  // Sockets that never sent a request would hold up shardgate's graceful stop.
  open.forEach((s) => s.destroy());
});
