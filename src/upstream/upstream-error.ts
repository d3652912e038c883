/**
 * Classifies a failure to talk to a pushgateway into what the client should
 * be told: 502 (refused, reset, unreachable), 504 (timed out). The message
 * names the shard and the cause; it never hides that shardgate answered.
 */
export type UpstreamFailure = { readonly status: 502 | 504; readonly reason: string; readonly message: string };

export function classifyUpstreamError(target: string, err: unknown): UpstreamFailure {
  const code = errorCode(err);
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return { status: 504, reason: 'connect_timeout', message: `timed out connecting to pushgateway ${target}` };
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return { status: 504, reason: 'response_timeout', message: `pushgateway ${target} did not answer in time` };
    case 'ECONNREFUSED':
      return { status: 502, reason: 'connection_refused', message: `pushgateway ${target} refused the connection` };
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
    case 'EPIPE':
      return { status: 502, reason: 'connection_reset', message: `connection to pushgateway ${target} was reset` };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { status: 502, reason: 'unreachable', message: `pushgateway ${target} is unreachable (${code})` };
    default:
      return { status: 502, reason: 'error', message: `error talking to pushgateway ${target}: ${errorMessage(err)}` };
  }
}

export function errorCode(err: unknown): string | undefined {
  if (err !== null && typeof err === 'object') {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const cause = (err as { cause?: unknown }).cause;
    if (cause !== undefined && cause !== err) return errorCode(cause);
  }
  return undefined;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
