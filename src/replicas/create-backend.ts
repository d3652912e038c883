/**
 * The configured coordination backend (config `replicas.etcd` or
 * `replicas.kubernetes`).
 */
import { type CoordinationBackendConfig } from '../config/replicas-config.js';
import { type CoordinationBackend } from './coordination-backend.js';

export function createBackend(config: CoordinationBackendConfig, ttlMs: number, identity: string): CoordinationBackend {
  void ttlMs;
  void identity;
  throw new Error(`the ${config.kind} coordination backend is not built into this version yet`);
}
