/**
 * A TCP relay on loopback that a test can cut: while cut, it destroys every
 * open connection and refuses new ones, as a firewall rule dropping the
 * port would look to the client (a replica cut off from etcd, without
 * network namespaces). Callers MUST close it.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { freePort } from '../../src/local/free-port.js';

export interface CutProxy {
  /** host:port to connect to instead of the target. */
  readonly address: string;
  cut(): void;
  heal(): void;
  close(): Promise<void>;
}

export async function startCutProxy(targetHost: string, targetPort: number): Promise<CutProxy> {
  let cut = false;
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    if (cut) return void client.destroy();
    const upstream = createConnection({ host: targetHost, port: targetPort });
    open.add(client);
    open.add(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    address: `127.0.0.1:${port}`,
    cut() {
      cut = true;
      for (const s of open) s.destroy();
      open.clear();
    },
    heal() {
      cut = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}
