import type { IncomingMessage } from 'node:http';

/**
 * Whether a browser may connect from the request's `Origin`. CORS does not guard WebSocket upgrades, so this
 * check runs on every handshake. Requests without `Origin` come from non-browser clients and are allowed.
 * With no allow-list, only pages served by this same host may connect, over http or https (and, with
 * `publicScheme`, that scheme only): not `null`, `file:`, or an extension's page.
 */
export function originAllowed(
  req: IncomingMessage,
  allowedOrigins: readonly string[] | undefined,
  publicScheme?: 'http:' | 'https:',
): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (allowedOrigins) return allowedOrigins.includes('*') || allowedOrigins.includes(origin);
  try {
    const url = new URL(origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    if (publicScheme && url.protocol !== publicScheme) return false;
    return url.host === req.headers.host;
  } catch {
    return false;
  }
}
