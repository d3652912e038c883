/**
 * TCP port probing for the local fleet and for tests.
 *
 * Both functions are advisory: another process may take the port between
 * the probe and its use. Callers that bind afterwards must still handle
 * "address already in use".
 */
import { createServer } from 'node:net';

/** A port the kernel considers free on `host`: listen on port 0, read it, close. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : undefined;
      server.close((err) => {
        if (err) reject(err);
        else if (port === undefined) reject(new Error(`could not read the port bound on ${host}`));
        else resolve(port);
      });
    });
  });
}

/**
 * Whether `host:port` can be bound right now. Resolves false only for
 * EADDRINUSE; any other failure (bad host, EACCES) rejects, because it
 * would make a later bind fail too and deserves its own message.
 */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') resolve(false);
      else reject(err);
    });
    server.listen({ port, host, exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}
