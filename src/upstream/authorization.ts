/**
 * The one place the upstream `Authorization` header is set: an undici
 * interceptor composed onto every pool, so pushes, health checks, reads,
 * wipes and rebalancing moves all carry it. It replaces any Authorization a
 * client sent with its push (that one was meant for shardgate).
 */
import { type Dispatcher } from 'undici';

export function withAuthorization(value: string): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (opts, handler) => dispatch({ ...opts, headers: setAuthorization(opts.headers, value) }, handler);
}

function setAuthorization(headers: Dispatcher.DispatchOptions['headers'], value: string): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {};
  if (Array.isArray(headers)) {
    // undici's flat form: [name, value, name, value, …]
    for (let i = 0; i + 1 < headers.length; i += 2) out[String(headers[i]).toLowerCase()] = headers[i + 1];
  } else if (headers !== null && headers !== undefined) {
    for (const [name, v] of Object.entries(headers as Record<string, string | string[] | undefined>)) out[name.toLowerCase()] = v;
  }
  out.authorization = value;
  return out;
}
