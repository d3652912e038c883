/**
 * The exporter-toolkit's `client_auth_type` values on Node's TLS server.
 * Node verifies at the handshake only in one mode (RequireAndVerifyClientCert:
 * requestCert + rejectUnauthorized); the others request a certificate without
 * rejecting, and `clientRejection` decides once the handshake is done, before
 * any request on the connection is read.
 *
 *   NoClientCert                no certificate asked for
 *   RequestClientCert           asked for, anything accepted
 *   RequireAnyClientCert        required, not verified
 *   VerifyClientCertIfGiven     optional; verified against the client CAs if sent
 *   RequireAndVerifyClientCert  required and verified (the only secure choice)
 */
import { type TLSSocket } from 'node:tls';
import { type TlsServerSettings } from './web-config.js';

export function clientCertOptions(tls: TlsServerSettings): { requestCert: boolean; rejectUnauthorized: boolean } {
  return { requestCert: tls.clientAuth !== 'NoClientCert', rejectUnauthorized: tls.clientAuth === 'RequireAndVerifyClientCert' };
}

/** @returns why this connection must be closed, or undefined to keep it. */
export function clientRejection(socket: TLSSocket, tls: TlsServerSettings): string | undefined {
  const peer = tls.clientAuth === 'NoClientCert' ? undefined : socket.getPeerCertificate();
  const presented = peer !== undefined && Object.keys(peer).length > 0;
  switch (tls.clientAuth) {
    case 'RequireAnyClientCert':
      if (!presented) return 'client certificate required';
      break;
    case 'VerifyClientCertIfGiven':
    case 'RequireAndVerifyClientCert':
      if (tls.clientAuth === 'RequireAndVerifyClientCert' && !presented) return 'client certificate required';
      if (presented && !socket.authorized) return `client certificate not trusted: ${String(socket.authorizationError)}`;
      break;
    default:
      break;
  }
  if (tls.allowedSans !== undefined) {
    const sans = (peer?.subjectaltname ?? '').split(', ').map((s) => s.slice(s.indexOf(':') + 1));
    if (!sans.some((s) => tls.allowedSans?.includes(s))) return 'client certificate has none of the allowed SANs';
  }
  return undefined;
}
