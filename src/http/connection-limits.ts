/**
 * Caps on open client connections: in total (like Prometheus'
 * --web.max-connections) and per client address.
 *
 * A connection over a cap is not dropped silently: it stays out of the
 * count, its first request is answered 503 (total) or 429 (per address)
 * with `Connection: close`, and it is closed. One that sends nothing is
 * closed after REFUSED_IDLE_MS. Contract: `attach` before the server
 * listens; `guard` wraps the request handler; settings may change at any
 * time and apply to new connections.
 */
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { type Server as NetServer, type Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import { ShardgateError, toHttpError } from './errors.js';
import { sendText } from './respond.js';
import { type Metrics } from '../telemetry/metrics.js';

export interface ConnectionLimitSettings {
  readonly maxConnections: number;
  /** 0: no per-address limit. */
  readonly maxConnectionsPerIp: number;
}

type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

const REFUSED_IDLE_MS = 5_000;

/** The pure bookkeeping: who is open, and whether one more may open. */
export class ConnectionCounter {
  #open = 0;
  readonly #perAddress = new Map<string, number>();

  get open(): number {
    return this.#open;
  }

  /** Counts the connection and returns undefined, or returns why it is refused (not counted). */
  admit(address: string, settings: ConnectionLimitSettings): ShardgateError | undefined {
    if (this.#open >= settings.maxConnections) {
      return new ShardgateError('SHARDGATE_TOO_MANY_CONNECTIONS', `too many open connections (limit ${settings.maxConnections}); retry later`);
    }
    const mine = this.#perAddress.get(address) ?? 0;
    if (settings.maxConnectionsPerIp > 0 && mine >= settings.maxConnectionsPerIp) {
      return new ShardgateError('SHARDGATE_TOO_MANY_CONNECTIONS_FROM_CLIENT', `too many open connections from ${address} (limit ${settings.maxConnectionsPerIp}); retry later`);
    }
    this.#open++;
    this.#perAddress.set(address, mine + 1);
    return undefined;
  }

  /** Called once for every admitted connection when it closes. */
  release(address: string): void {
    this.#open--;
    const mine = (this.#perAddress.get(address) ?? 1) - 1;
    if (mine <= 0) this.#perAddress.delete(address);
    else this.#perAddress.set(address, mine);
  }
}

export class ConnectionLimits {
  settings: ConnectionLimitSettings;
  readonly #counter = new ConnectionCounter();
  readonly #refused = new WeakMap<Socket, ShardgateError>();
  readonly #metrics: Metrics;

  constructor(settings: ConnectionLimitSettings, metrics: Metrics) {
    this.settings = settings;
    this.#metrics = metrics;
  }

  /** Over TLS, a connection counts once its handshake is done: that socket is the one requests carry. */
  attach(server: NetServer): void {
    server.on(server instanceof TlsServer ? 'secureConnection' : 'connection', (socket: Socket) => {
      const address = socket.remoteAddress ?? 'unknown';
      const refusal = this.#counter.admit(address, this.settings);
      if (refusal === undefined) {
        this.#metrics.openConnections.set(this.#counter.open);
        socket.once('close', () => {
          this.#counter.release(address);
          this.#metrics.openConnections.set(this.#counter.open);
        });
        return;
      }
      this.#metrics.refusedConnections.inc({ reason: refusal.code === 'SHARDGATE_TOO_MANY_CONNECTIONS' ? 'total' : 'per_ip' });
      this.#refused.set(socket, refusal);
      socket.setTimeout(REFUSED_IDLE_MS, () => socket.destroy());
    });
  }

  guard(handler: RequestHandler): RequestHandler {
    return (req, res) => {
      const refusal = this.#refused.get(req.socket);
      if (refusal === undefined) return handler(req, res);
      const { status, message } = toHttpError(refusal);
      res.setHeader('connection', 'close');
      res.once('finish', () => req.socket.end());
      sendText(res, status, message);
    };
  }
}
