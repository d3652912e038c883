/**
 * The configured coordination backend (config `replicas.etcd` or
 * `replicas.kubernetes`).
 */
import { type CoordinationBackendConfig } from '../config/replicas-config.js';
import { type CoordinationBackend } from './coordination-backend.js';
import { EtcdBackend } from './etcd-backend.js';

export function createBackend(config: CoordinationBackendConfig, ttlMs: number): CoordinationBackend {
  switch (config.kind) {
    case 'etcd':
      return new EtcdBackend({ endpoints: config.endpoints, prefix: config.prefix, ttlMs, username: config.username, password: config.password });
    case 'kubernetes':
      throw new Error('the kubernetes coordination backend (Leases) is not built yet: use etcd');
  }
}
