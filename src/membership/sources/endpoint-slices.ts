/**
 * EndpointSlices → targets, a pure function
 * (https://kubernetes.io/docs/reference/kubernetes-api/service-resources/endpoint-slice-v1/):
 * `conditions.ready` true or unset ("nil should be interpreted as true") →
 * a target; not ready but `terminating: true` and `serving` true (or unset)
 * → a target marked terminating; anything else is left out. The port is the
 * slice port named `portName`, or the slice's only port.
 */
import { type DiscoveredTarget } from '../source.js';
import { hostPort } from './label-name.js';
import { obj, str } from './json-fields.js';

/**
 * The targets of a set of EndpointSlices. An address listed by several
 * slices (allowed during updates) is one target; ready wins over terminating.
 * Throws when a slice's port cannot be chosen.
 */
export function endpointTargets(slices: readonly unknown[], portName: string | undefined): DiscoveredTarget[] {
  const byAddress = new Map<string, DiscoveredTarget>();
  for (const raw of slices) {
    const slice = obj(raw);
    const meta = obj(slice['metadata']);
    const endpoints = Array.isArray(slice['endpoints']) ? slice['endpoints'] : [];
    if (endpoints.length === 0) continue;
    const port = slicePort(slice, portName, str(meta['name']));
    for (const rawEp of endpoints) {
      const ep = obj(rawEp);
      const cond = obj(ep['conditions']);
      const ready = cond['ready'] !== false;
      const terminatingServing = !ready && cond['terminating'] === true && cond['serving'] !== false;
      if (!ready && !terminatingServing) continue;
      const ref = obj(ep['targetRef']);
      const labels: Record<string, string> = { kubernetes_namespace: str(meta['namespace']) || str(ref['namespace']) };
      if (str(ref['kind']) === 'Pod' && str(ref['name'])) labels['kubernetes_pod_name'] = str(ref['name']);
      if (str(ep['nodeName'])) labels['kubernetes_node_name'] = str(ep['nodeName']);
      if (str(ep['zone'])) labels['kubernetes_zone'] = str(ep['zone']);
      const addresses = Array.isArray(ep['addresses']) ? ep['addresses'] : [];
      // "consumers must treat the addresses as interchangeable": the first one is the endpoint's address.
      const host = str(addresses[0]);
      if (host === '') continue;
      const address = hostPort(host, port);
      const seen = byAddress.get(address);
      if (seen && !seen.terminating) continue;
      byAddress.set(address, terminatingServing ? { address, labels, terminating: true } : { address, labels });
    }
  }
  return [...byAddress.values()].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}

function slicePort(slice: Record<string, unknown>, portName: string | undefined, sliceName: string): number {
  const ports = (Array.isArray(slice['ports']) ? slice['ports'] : []).map(obj);
  const chosen = portName === undefined ? (ports.length === 1 ? ports[0] : undefined) : ports.find((p) => str(p['name']) === portName);
  const port = chosen?.['port'];
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    const names = ports.map((p) => str(p['name']) || '(unnamed)').join(', ');
    throw new Error(portName === undefined
      ? `EndpointSlice ${sliceName} has ${ports.length} ports (${names}): set port_name`
      : `EndpointSlice ${sliceName} has no port named ${JSON.stringify(portName)} (has ${names})`);
  }
  return port;
}

export function sliceName(slice: unknown): string {
  const name = str(obj(obj(slice)['metadata'])['name']);
  if (name === '') throw new Error('an EndpointSlice without a name');
  return name;
}
