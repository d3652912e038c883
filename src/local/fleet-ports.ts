/**
 * The local fleet's ports, remembered in the data dir (`ports.json`), so a
 * restarted `shardgate local` brings every shard back at the same address
 * as before. The ring is a function of the addresses: new ports would give
 * every group a new owner and make the rebalancer move most of the store.
 * A remembered port that is taken now is replaced by a fresh one (that
 * shard's groups then move, which the rebalancer handles).
 */
import { readFile, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, isPortFree } from './free-port.js';

const FILE = 'ports.json';

export async function fleetPorts(dataDir: string, shards: number, host: string): Promise<number[]> {
  const remembered = await readRemembered(dataDir);
  const chosen: number[] = [];
  for (let i = 0; i < shards; i++) {
    const port = remembered[i];
    if (port !== undefined && !chosen.includes(port) && (await isPortFree(port, host))) {
      chosen.push(port);
      continue;
    }
    for (let attempt = 0; ; attempt++) {
      const fresh = await freePort(host);
      if (!chosen.includes(fresh) && !remembered.includes(fresh)) {
        chosen.push(fresh);
        break;
      }
      if (attempt > 20) throw new Error(`could not find ${shards} distinct free ports on ${host}`);
    }
  }
  const tmp = join(dataDir, `${FILE}.${process.pid}.tmp`);
  await writeFile(tmp, `${JSON.stringify({ ports: chosen })}\n`);
  await rename(tmp, join(dataDir, FILE));
  return chosen;
}

async function readRemembered(dataDir: string): Promise<number[]> {
  try {
    const parsed: unknown = JSON.parse(await readFile(join(dataDir, FILE), 'utf8'));
    const ports = typeof parsed === 'object' && parsed !== null && 'ports' in parsed ? parsed.ports : undefined;
    return Array.isArray(ports) ? ports.filter((p): p is number => Number.isInteger(p) && p > 0 && p < 65536) : [];
  } catch {
    return []; // first start, or an unreadable file: pick fresh ports
  }
}
