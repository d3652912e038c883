/**
 * A real DNS server on loopback for the DNS source's tests: Debian's
 * dnsmasq (`apt-get install dnsmasq-base`; scripts/setup.sh test installs
 * it), answering only from what the test gives it:
 *  - A/AAAA records from a hosts file (`--addn-hosts`), re-read on SIGHUP
 *    (`setHosts`);
 *  - SRV records (`--srv-host`) and their targets' addresses
 *    (`--host-record`), which dnsmasq reads only at start (`restart`).
 * No upstream servers, no /etc/hosts; the `test.` domain is local, so a
 * name under it that it does not know is NXDOMAIN (others are REFUSED).
 *
 * Callers MUST stop it in t.after / after, even on failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Resolver } from 'node:dns/promises';
import { freePort } from '../../src/local/free-port.js';
import { waitFor } from './wait-for.js';

/** Debian installs it in /usr/sbin, which a non-root PATH may lack. */
const DNSMASQ = existsSync('/usr/sbin/dnsmasq') ? '/usr/sbin/dnsmasq' : 'dnsmasq';

export interface SrvRecord {
  /** e.g. _pushgateway._tcp.shardgate.test */
  readonly name: string;
  readonly target: string;
  readonly port: number;
}

export interface DnsRecords {
  /** `ip name` lines of the hosts file. */
  readonly hosts?: ReadonlyArray<readonly [ip: string, name: string]>;
  readonly srv?: readonly SrvRecord[];
  /** Addresses of SRV targets (--host-record). */
  readonly hostRecords?: ReadonlyArray<readonly [name: string, ip: string]>;
}

export interface Dnsmasq {
  /** "127.0.0.1:PORT": the `resolver` to configure. */
  readonly address: string;
  /** Rewrites the hosts file and sends SIGHUP; resolves once `probe` answers as expected (if given). */
  setHosts(hosts: DnsRecords['hosts'], probe?: { name: string; ip: string }): Promise<void>;
  /** Stops dnsmasq and starts it again on the same port with these records. */
  restart(records: DnsRecords): Promise<void>;
  /** SIGKILL: queries are refused from now on. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export async function startDnsmasq(records: DnsRecords): Promise<Dnsmasq> {
  const dir = await mkdtemp(join(tmpdir(), 'shardgate-dns-'));
  // dnsmasq drops to user nobody, which must still read the hosts file on SIGHUP.
  await chmod(dir, 0o755);
  const hostsFile = join(dir, 'hosts');
  const port = await freePort();
  let current = records;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let stderr = '';

  const writeHosts = async (hosts: DnsRecords['hosts']): Promise<void> => {
    await writeFile(hostsFile, (hosts ?? []).map(([ip, name]) => `${ip} ${name}\n`).join(''));
    await chmod(hostsFile, 0o644);
  };
  const launch = async (): Promise<void> => {
    await writeHosts(current.hosts);
    const args = [
      '--no-daemon', `--port=${port}`, '--listen-address=127.0.0.1', '--bind-interfaces', '--no-resolv', '--no-hosts', '--local=/test/',
      `--addn-hosts=${hostsFile}`, `--pid-file=${join(dir, 'pid')}`, '--log-facility=-',
      ...(current.srv ?? []).map((s) => `--srv-host=${s.name},${s.target},${s.port}`),
      ...(current.hostRecords ?? []).map(([name, ip]) => `--host-record=${name},${ip}`),
    ];
    const c = spawn(DNSMASQ, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    c.stderr?.setEncoding('utf8');
    c.stderr?.on('data', (d: string) => (stderr += d));
    exited = new Promise((resolve) => c.once('exit', () => resolve()));
    child = c;
    const resolver = new Resolver({ timeout: 200, tries: 1 });
    resolver.setServers([`127.0.0.1:${port}`]);
    // Any answer (NXDOMAIN included) means it serves.
    await waitFor(
      async () => {
        if (c.exitCode !== null) throw new Error(`dnsmasq exited: ${stderr}`);
        return resolver.resolve4('ready.probe.test').then(() => true, (err: NodeJS.ErrnoException) => err.code === 'ENOTFOUND' || err.code === 'ENODATA');
      },
      { timeoutMs: 10_000, what: 'dnsmasq to answer' },
    );
  };
  const halt = async (sig: NodeJS.Signals): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill(sig);
      await exited;
    }
    child = undefined;
  };
  await launch();
  return {
    address: `127.0.0.1:${port}`,
    async setHosts(hosts, probe) {
      current = { ...current, hosts };
      await writeHosts(hosts);
      child?.kill('SIGHUP');
      if (probe) {
        const resolver = new Resolver({ timeout: 200, tries: 1 });
        resolver.setServers([`127.0.0.1:${port}`]);
        await waitFor(async () => (await resolver.resolve4(probe.name).catch((): string[] => [])).includes(probe.ip), { what: `dnsmasq to re-read its hosts file (${probe.name})` });
      }
    },
    async restart(next) {
      await halt('SIGTERM');
      current = next;
      await launch();
    },
    kill: () => halt('SIGKILL'),
    async stop() {
      await halt('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
