import type { IncomingMessage } from 'node:http';

/**
 * Whether a browser may connect from the request's `Origin`. CORS does not guard WebSocket upgrades, so this
 * check runs on every handshake. Requests without `Origin` come from non-browser clients and are allowed.
 * With no allow-list, only pages served by this same host may connect.
 */
export function originAllowed(req: IncomingMessage, allowedOrigins: readonly string[] | undefined): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (allowedOrigins) return allowedOrigins.includes('*') || allowedOrigins.includes(origin);
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
