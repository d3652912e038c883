/**
 * The server shardgate listens with: plain HTTP, or HTTPS when the web
 * config has `tls_server_config`; every request passes the request gate
 * (headers, basic auth) and the route prefix before the router sees it.
 *
 * Reload (`prepareReload`, then the returned apply): the file is re-read and
 * checked first, so a bad file changes nothing; applying swaps users and
 * headers at once and the TLS context (certificate rotation, client CAs,
 * versions, client auth policy) through `setSecureContext`, for new
 * connections. Turning TLS on or off needs a restart and is refused.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { type TLSSocket } from 'node:tls';
import { ConfigError } from '../config/load-config.js';
import { type Logger } from '../telemetry/logger.js';
import { BasicAuth } from './basic-auth.js';
import { requestGate } from './request-gate.js';
import { type RequestHandler, withRoutePrefix } from './route-prefix.js';
import { clientCertOptions, clientRejection } from './tls-client-policy.js';
import { loadWebConfig, NO_WEB_CONFIG, type WebConfig } from './web-config.js';

export class WebServer {
  readonly #file: string | undefined;
  readonly #logger: Logger;
  readonly #auth = new BasicAuth();
  #config: WebConfig;
  #https: HttpsServer | undefined;

  private constructor(file: string | undefined, config: WebConfig, logger: Logger) {
    this.#file = file;
    this.#config = config;
    this.#logger = logger;
  }

  /** Loads the web config file (if any); rejects with ConfigError when it is bad. */
  static async load(file: string | undefined, logger: Logger): Promise<WebServer> {
    return new WebServer(file, file === undefined ? NO_WEB_CONFIG : await loadWebConfig(file), logger);
  }

  get scheme(): 'http' | 'https' {
    return this.#config.tls === undefined ? 'http' : 'https';
  }

  /** What every request passes before `inner` routes it: the gate (headers, basic auth), then the route prefix. */
  handler(routePrefix: string, inner: RequestHandler): RequestHandler {
    return requestGate(() => this.#config, this.#auth, withRoutePrefix(routePrefix, inner));
  }

  /** The one server: plain HTTP, or HTTPS with the configured TLS and client-certificate policy. */
  createServer(handler: RequestHandler): Server | HttpsServer {
    const tls = this.#config.tls;
    this.#logger.info({ tls: tls !== undefined, basic_auth: this.#config.users.size > 0, http2: false }, tls ? 'TLS is enabled' : 'TLS is disabled');
    if (tls === undefined) return createHttpServer(handler);
    const server = createHttpsServer({ ...tls.context, ...clientCertOptions(tls) }, handler);
    server.on('secureConnection', (socket: TLSSocket) => {
      const current = this.#config.tls;
      const why = current === undefined ? undefined : clientRejection(socket, current);
      if (why === undefined) return;
      this.#logger.debug({ remote: socket.remoteAddress, reason: why }, 'TLS client rejected');
      socket.destroy();
    });
    server.on('tlsClientError', (err, socket) => this.#logger.debug({ err: err.message, remote: socket.remoteAddress }, 'TLS handshake failed'));
    this.#https = server;
    return server;
  }

  /** Re-reads the file; throws ConfigError (nothing changed) or returns what applies it. */
  async prepareReload(): Promise<() => void> {
    if (this.#file === undefined) return () => undefined;
    const next = await loadWebConfig(this.#file);
    if ((next.tls === undefined) !== (this.#config.tls === undefined)) {
      throw new ConfigError(`web config ${this.#file}: turning TLS ${next.tls ? 'on' : 'off'} takes a restart; keeping the running web configuration`);
    }
    return () => {
      if (next.tls !== undefined) this.#https?.setSecureContext({ ...next.tls.context, ...clientCertOptions(next.tls) });
      this.#config = next;
      this.#logger.info({ file: this.#file, basic_auth_users: next.users.size }, 'web configuration reloaded');
    };
  }
}
