/**
 * The one error catalogue and the one mapping to HTTP. Handlers throw these
 * (or let GroupingKeyError / ConfigError through); `toHttpError` decides the
 * status and the plain-text message a Pushgateway user would recognise.
 * Pushgateway's own answers are passed through unchanged and never get here.
 */
import { GroupingKeyError } from '../groupingkey/push-path.js';
import { ConfigError } from '../config/load-config.js';

export class ShardgateError extends Error {
  override readonly name = 'ShardgateError';
  /**
   * @param inDoubt the request reached a pushgateway and its answer never
   *   came: the pushgateway may still apply it.
   */
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly inDoubt = false,
  ) {
    super(message);
  }
}

export const ERROR_STATUS = {
  SHARDGATE_NO_HEALTHY_SHARD: 503,
  // The owner took the push but no standby did: not acknowledged, the client retries (replication/standby-writer.ts).
  SHARDGATE_NO_STANDBY: 503,
  SHARDGATE_UPSTREAM_UNREACHABLE: 502,
  SHARDGATE_UPSTREAM_TIMEOUT: 504,
  SHARDGATE_EARLIER_PUSH_IN_DOUBT: 503,
  SHARDGATE_GROUP_RECONCILING: 503,
  SHARDGATE_NOT_FOUND: 404,
  SHARDGATE_METHOD_NOT_ALLOWED: 405,
  SHARDGATE_BAD_REQUEST: 400,
  SHARDGATE_UNAUTHORIZED: 401,
  SHARDGATE_UNKNOWN_TARGET: 404,
  SHARDGATE_FORBIDDEN: 403,
  SHARDGATE_CONFLICT: 409,
  SHARDGATE_SHUTTING_DOWN: 503,
  SHARDGATE_BAD_BODY: 400,
  /** A push Pushgateway would refuse (parse error, timestamps, inconsistency): its 400 and message (gateway mode). */
  SHARDGATE_PUSH_REJECTED: 400,
  SHARDGATE_BODY_TOO_LARGE: 413,
  SHARDGATE_TOO_MANY_CONNECTIONS: 503,
  SHARDGATE_TOO_MANY_CONNECTIONS_FROM_CLIENT: 429,
  /** Several replicas: no leader is known, or it cannot be reached, for a write that must go through it. */
  SHARDGATE_NO_LEADER: 503,
  /** Several replicas: a write forwarded to a replica that is not (or no longer) the leader. */
  SHARDGATE_NOT_LEADER: 503,
  /** Several replicas: this replica may not write to the shards now (its session lapsed, or the fleet is being rebalanced). */
  SHARDGATE_REPLICA_FENCED: 503,
} as const;
export type ErrorCode = keyof typeof ERROR_STATUS;

export function toHttpError(err: unknown): { status: number; message: string } {
  if (err instanceof ShardgateError) return { status: ERROR_STATUS[err.code], message: err.message };
  if (err instanceof GroupingKeyError) return { status: 400, message: err.message };
  if (err instanceof ConfigError) return { status: 500, message: `failed to reload config: ${err.message}` };
  return { status: 500, message: `internal error: ${err instanceof Error ? err.message : String(err)}` };
}
