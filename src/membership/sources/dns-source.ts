/**
 * Targets from DNS: the A, AAAA or SRV records of one or more names (a
 * Kubernetes headless Service, a Consul DNS name), re-resolved every
 * refresh interval through node:dns's Resolver, pointed at `resolver`
 * (host:port) when one is configured.
 *
 * SRV: each record's target host is resolved to its addresses (A, then
 * AAAA if it has none) through the SAME resolver, and each address with the
 * record's port is a target. A sidecar or Consul DNS that serves the SRV
 * records usually is the only server that knows those host names, and the
 * system resolver (which a host:port target would go through) may not ask it.
 * The SRV target name is kept as the `srv_target` label.
 *
 * A name that does not exist or has no records of the type contributes no
 * targets (an empty answer overall is the glue's to judge); any other
 * failure (timeout, refused, SERVFAIL) fails the whole answer, so the glue
 * keeps the last set.
 *
 * Contract: resolutions never overlap; after stop() the sink is not called.
 */
import { Resolver } from 'node:dns/promises';
import { type Clock, systemClock } from '../../time/clock.js';
import { type DiscoveredTarget, type MembershipSource, type SourceSink } from '../source.js';

export interface DnsSettings {
  readonly names: readonly string[];
  readonly type: 'A' | 'AAAA' | 'SRV';
  readonly port: number | undefined;
  readonly refreshIntervalMs: number;
  readonly resolver: string | undefined;
  /** Per query attempt (default 2 s, 2 tries). */
  readonly timeoutMs?: number;
}

/** The name exists without records of this type, or does not exist: no targets, not a failure. */
const NO_RECORDS = new Set(['ENOTFOUND', 'ENODATA']);

export class DnsSource implements MembershipSource {
  readonly kind = 'dns';
  readonly #settings: DnsSettings;
  readonly #clock: Clock;
  readonly #resolver: Resolver;
  #sink: SourceSink | undefined;
  #cancelTimer: (() => void) | undefined;
  #stopped = false;

  constructor(settings: DnsSettings, clock: Clock = systemClock) {
    this.#settings = settings;
    this.#clock = clock;
    this.#resolver = new Resolver({ timeout: settings.timeoutMs ?? 2000, tries: 2 });
    if (settings.resolver !== undefined) this.#resolver.setServers([settings.resolver]);
  }

  async start(sink: SourceSink): Promise<void> {
    this.#sink = sink;
    await this.#resolveAll();
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    this.#cancelTimer?.();
    this.#resolver.cancel();
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#cancelTimer = this.#clock.setTimer(() => void this.#resolveAll().finally(() => this.#schedule()), this.#settings.refreshIntervalMs);
  }

  async #resolveAll(): Promise<void> {
    const byAddress = new Map<string, DiscoveredTarget>();
    try {
      for (const name of this.#settings.names) {
        for (const t of await this.#resolveName(name)) if (!byAddress.has(t.address)) byAddress.set(t.address, t);
      }
    } catch (err) {
      if (!this.#stopped) this.#sink?.failed(describe(err));
      return;
    }
    if (!this.#stopped) this.#sink?.update([...byAddress.values()].sort((a, b) => (a.address < b.address ? -1 : 1)));
  }

  async #resolveName(name: string): Promise<DiscoveredTarget[]> {
    const { type, port } = this.#settings;
    if (type !== 'SRV') {
      const ips = await orNone(type === 'A' ? this.#resolver.resolve4(name) : this.#resolver.resolve6(name));
      return ips.map((ip) => ({ address: hostPort(ip, port ?? 0), labels: { dns_name: name } }));
    }
    const out: DiscoveredTarget[] = [];
    for (const srv of await orNone(this.#resolver.resolveSrv(name))) {
      let ips = await orNone(this.#resolver.resolve4(srv.name));
      if (ips.length === 0) ips = await orNone(this.#resolver.resolve6(srv.name));
      for (const ip of ips) out.push({ address: hostPort(ip, srv.port), labels: { dns_name: name, srv_target: srv.name } });
    }
    return out;
  }
}

async function orNone<T>(p: Promise<T[]>): Promise<T[]> {
  try {
    return await p;
  } catch (err) {
    if (NO_RECORDS.has((err as NodeJS.ErrnoException).code ?? '')) return [];
    throw err;
  }
}

function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { hostname?: string };
  if (e.code === undefined) return String(err);
  return ['DNS', e.syscall ?? 'query', e.hostname, 'failed:', e.code].filter((p) => p !== undefined && p !== '').join(' ');
}
