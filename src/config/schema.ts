/**
 * The configuration file's schema. Two shapes load:
 *  - shardgate's own keys (below), and
 *  - the original dynamic-sharding.yml (`consul_server`, `http_listen_addr`,
 *    `pushgateway: {port, servers}`), unchanged.
 * Unknown keys are errors that name the key.
 */
import { z } from 'zod';
import { parseDuration } from './duration.js';
import { parseByteSize } from './byte-size.js';

const duration = z.string().transform((s, ctx) => {
  const ms = parseDuration(s);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `invalid duration ${JSON.stringify(s)} (use e.g. 500ms, 5s, 1m)` });
    return z.NEVER;
  }
  return ms;
});

const byteSize = z.union([z.string(), z.number()]).transform((s, ctx) => {
  const bytes = parseByteSize(s);
  if (bytes === undefined) {
    ctx.addIssue({ code: 'custom', message: `invalid size ${JSON.stringify(s)} (use bytes or e.g. 512KiB, 16MiB, 1GiB)` });
    return z.NEVER;
  }
  return bytes;
});

const hostPort = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}$/, 'must be host:port');

const listenAddress = z.string().regex(/^(\[[0-9a-fA-F:.]*\]|[A-Za-z0-9_.-]*):\d{1,5}$/, 'must be [host]:port');

/** How a block reaches a Kubernetes API server (membership.kubernetes, replicas.kubernetes): in-cluster by default. */
const kubernetesApiKeys = {
  namespace: z.string().min(1).optional(),
  api_server: z.string().regex(/^https?:\/\//, 'must be an http:// or https:// URL').optional(),
  bearer_token: z.string().min(1).optional(),
  token_file: z.string().min(1).optional(),
  ca_file: z.string().min(1).optional(),
  insecure_skip_verify: z.boolean().optional(),
  kubeconfig_file: z.string().min(1).optional(),
};

export const fileSchema = z.strictObject({
  // shardgate's own keys
  listen_address: listenAddress.optional(),
  mode: z.enum(['proxy', 'redirect']).optional(),
  targets: z.array(hostPort).optional(),
  health_check: z
    .strictObject({
      interval: duration.optional(),
      timeout: duration.optional(),
      fall: z.number().int().min(1).optional(),
      rise: z.number().int().min(1).optional(),
    })
    .optional(),
  upstream: z
    .strictObject({
      connect_timeout: duration.optional(),
      response_timeout: duration.optional(),
      max_connections: z.number().int().min(1).max(1024).optional(),
      // Towards the pushgateways, in Prometheus' own naming (scrape_config).
      scheme: z.enum(['http', 'https']).optional(),
      tls_config: z
        .strictObject({
          ca_file: z.string().min(1).optional(),
          cert_file: z.string().min(1).optional(),
          key_file: z.string().min(1).optional(),
          server_name: z.string().min(1).optional(),
          insecure_skip_verify: z.boolean().optional(),
        })
        .optional(),
      basic_auth: z
        .strictObject({
          username: z.string().min(1),
          password: z.string().optional(),
          password_file: z.string().min(1).optional(),
        })
        .optional(),
    })
    .optional(),
  rebalance: z
    .strictObject({
      enabled: z.boolean().optional(),
      sweep_interval: duration.optional(),
      concurrency: z.number().int().min(1).max(64).optional(),
      max_moves_per_second: z.number().positive().optional(),
    })
    .optional(),
  membership: z
    .strictObject({
      // Exactly one source; absent = the static `targets` list.
      file_sd: z
        .strictObject({
          files: z.array(z.string().min(1)).min(1),
          refresh_interval: duration.optional(),
        })
        .optional(),
      dns: z
        .strictObject({
          names: z.array(z.string().min(1)).min(1),
          type: z.enum(['A', 'AAAA', 'SRV']).optional(),
          port: z.number().int().min(1).max(65535).optional(),
          refresh_interval: duration.optional(),
          resolver: hostPort.optional(),
        })
        .optional(),
      // https://developer.hashicorp.com/consul/api-docs/health#list-service-instances-for-service
      consul: z
        .strictObject({
          server: z.string().min(1),
          service: z.string().min(1),
          tags: z.array(z.string().min(1)).optional(),
          datacenter: z.string().min(1).optional(),
          token: z.string().min(1).optional(),
          token_file: z.string().min(1).optional(),
          wait: duration.optional(),
          tls_config: z.strictObject({ ca_file: z.string().min(1).optional(), insecure_skip_verify: z.boolean().optional() }).optional(),
        })
        .optional(),
      // EndpointSlices of a Service: in-cluster by default, or api_server / kubeconfig_file.
      kubernetes: z
        .strictObject({
          service: z.string().min(1),
          port_name: z.string().min(1).optional(),
          ...kubernetesApiKeys,
        })
        .optional(),
      // Guard rules that apply to every dynamic source (see README, "Membership sources").
      remove_after: duration.optional(),
      max_removal_ratio: z.number().gt(0).max(1).optional(),
    })
    .optional(),
  push: z
    .strictObject({
      // gateway: shardgate checks every push against the whole fleet (index/); shard: each pushgateway checks its own store; off: nobody checks.
      consistency_check: z.enum(['gateway', 'shard', 'off']).optional(),
      index_resync_interval: duration.optional(),
    })
    .optional(),
  expiry: z
    .strictObject({
      interval: duration.optional(),
      rules: z.array(z.strictObject({ match: z.string(), max_age: duration })).optional(),
      default: duration.optional(),
    })
    .optional(),
  // Several shardgate replicas sharing one ring (README, "Several shardgate replicas"): exactly one backend.
  replicas: z
    .strictObject({
      id: z.string().min(1).optional(),
      advertise_url: z.string().regex(/^https?:\/\/[^/]+/, 'must be an http:// or https:// URL').optional(),
      lease_ttl: duration.optional(),
      poll_interval: duration.optional(),
      not_ready_after: duration.optional(),
      etcd: z
        .strictObject({
          endpoints: z.array(z.string().regex(/^https?:\/\/[^/]+/, 'must be an http:// or https:// URL')).min(1),
          prefix: z.string().min(1).optional(),
          username: z.string().min(1).optional(),
          password: z.string().optional(),
        })
        .optional(),
      kubernetes: z
        .strictObject({
          lease_name: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a Kubernetes object name').max(200).optional(),
          ...kubernetesApiKeys,
        })
        .optional(),
    })
    .optional(),
  replication: z
    .strictObject({
      enabled: z.boolean().optional(),
      // Pushgateways outside the scrape set that hold a second copy of every group.
      standby_targets: z.array(z.string().min(1)).optional(),
    })
    .optional(),
  limits: z
    .strictObject({
      max_body_size: byteSize.optional(),
      max_connections: z.number().int().min(1).optional(),
      max_connections_per_ip: z.number().int().min(0).optional(),
    })
    .optional(),
  // the original dynamic-sharding.yml
  http_listen_addr: listenAddress.optional(),
  pushgateway: z
    .strictObject({
      port: z.number().int().min(1).max(65535),
      servers: z.array(z.string().min(1)),
    })
    .optional(),
  consul_server: z
    .strictObject({
      addr: z.string().nullish(),
      username: z.string().nullish(),
      password: z.string().nullish(),
      register_service_name: z.string().nullish(),
      // shardgate's addition: the ACL token for registering (X-Consul-Token)
      token: z.string().nullish(),
    })
    .nullish(),
});

export type ConfigFile = z.infer<typeof fileSchema>;
