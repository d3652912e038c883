/**
 * Label names the sources publish (as `__meta_shardgate_<name>`): every
 * character outside [a-zA-Z0-9_] becomes `_`, as Prometheus' own service
 * discovery does for Consul meta keys and Kubernetes labels
 * (strutil.SanitizeLabelName). Names are lower-level parts joined by `_`.
 */
export function labelName(...parts: readonly string[]): string {
  return parts.map((p) => p.replace(/[^a-zA-Z0-9_]/g, '_')).join('_');
}

/** host:port, with brackets around an IPv6 host. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}
