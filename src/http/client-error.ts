/**
 * Answers requests Node's HTTP parser rejects (malformed request line or
 * headers, raw non-ASCII bytes in the path, oversized headers, header
 * timeouts) the way Go's net/http does for Pushgateway: a status line and a
 * short plain-text reason, instead of Node's empty-bodied 400.
 */
import { type Socket } from 'node:net';

interface ParserError extends Error {
  readonly code?: string;
}

export function answerClientError(err: ParserError, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, text] = describe(err.code);
  socket.end(`HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n${text}`);
}

function describe(code: string | undefined): [string, string] {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return ['431 Request Header Fields Too Large', '431 Request Header Fields Too Large'];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return ['408 Request Timeout', '408 Request Timeout'];
    case 'HPE_INVALID_URL':
      return ['400 Bad Request', '400 Bad Request: invalid request target (percent-encode non-ASCII bytes in the path)'];
    default:
      return ['400 Bad Request', '400 Bad Request'];
  }
}
