import type { IncomingMessage } from 'node:http';
import { HandshakeAuthSchema } from '@chorus/protocol';
import { AuthError, type Authenticator } from '../auth/authenticator';
import type { ChorusServer } from '../context';
import { clientAddress, type TrustedProxies } from '../http/client-address';
import type { AddressLimiter } from '../limits/address-limiter';
import { limitedWarn } from '../limits/log-limiter';
import type { Logger } from '../logger';

/** Plain WebSocket clients are guests: a new id and, unless they chose one, a made-up name. */
export { guestName, newGuestId as newUserId } from '../auth/guest-tokens';

/** An error for Socket.IO's `connect_error`, with the code in `err.data.code`. */
export function handshakeError(
  code: 'INVALID_PAYLOAD' | 'UNAUTHORIZED' | 'FORBIDDEN' | 'RATE_LIMITED' | 'UNAVAILABLE',
  message: string,
) {
  return Object.assign(new Error(message), { data: { code, message } });
}

/**
 * The handshake: checks `auth`, establishes who connects (a signed-in user, a returning or a new guest) and puts
 * it on `socket.data`, then counts the connection against its address's limit (refused with `RATE_LIMITED` past
 * it; uncounted when it disconnects). Nothing is joined before all of it passed.
 */
export function useHandshake(
  io: ChorusServer,
  auth: Authenticator,
  limiter: AddressLimiter,
  proxies: TrustedProxies,
  logger: Logger,
): void {
  // Refused credentials are what an operator looks for when sign-in breaks (a wrong key, a clock, an issuer): one
  // line each, with the reason and the address, never the token; rate-limited, so a flood cannot fill the log.
  const warn = limitedWarn(logger.child({ component: 'auth' }));
  // Socket.IO keeps each connection's first HTTP request for as long as the connection lives (engine.io's
  // WebSocket upgrade keeps a reference to it, so `request = null` alone frees nothing). The gateway needs its
  // address only: that is read here, once, and the headers, most of what the request holds, are let go.
  const addresses = new WeakMap<object, string>();
  io.engine.on('connection', (raw: { request: IncomingMessage | null }) => {
    const request = raw.request;
    if (!request) return;
    addresses.set(raw, clientAddress(request, proxies));
    request.headers = {};
    request.rawHeaders = [];
    raw.request = null;
  });
  // Shared by every socket: a closure made in the middleware would keep its context, and with it Socket.IO's
  // middleware chain, alive as long as the connection.
  function uncount(this: { data: { address: string } }): void {
    limiter.close(this.data.address);
  }
  io.use((socket, next) => {
    const parsed = HandshakeAuthSchema.safeParse(socket.handshake.auth ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const path = issue?.path.join('.');
      return next(
        handshakeError('INVALID_PAYLOAD', `invalid auth${path ? `.${path}` : ''}: ${issue?.message}`),
      );
    }
    const address = addresses.get(socket.conn) ?? socket.conn.remoteAddress;
    auth
      .authenticate(parsed.data)
      .then(async (identity) => {
        socket.data.user = identity.user;
        socket.data.grants = identity.grants;
        if (identity.expiresAt !== undefined) socket.data.expiresAt = identity.expiresAt;
        if (identity.guestToken !== undefined) socket.data.guestToken = identity.guestToken;
        socket.data.address = address;
        if (!(await limiter.open(address))) {
          return next(handshakeError('RATE_LIMITED', 'too many connections from your address'));
        }
        // A client that left while this was decided never connects, and never disconnects either (Socket.IO drops
        // it silently): its count goes now, or the address would keep it for good.
        if (socket.conn.readyState !== 'open') {
          limiter.close(address);
          return next(handshakeError('UNAVAILABLE', 'closed during the handshake'));
        }
        socket.on('disconnect', uncount);
        next();
      })
      .catch((error: unknown) => {
        if (error instanceof AuthError) {
          if (error.code === 'UNAUTHORIZED')
            warn({ ip: address, reason: error.message }, 'handshake refused');
          return next(handshakeError(error.code, error.message));
        }
        warn({ ip: address, err: { message: (error as Error).message } }, 'identity check failed');
        next(handshakeError('UNAVAILABLE', 'your identity could not be checked right now; retry'));
      });
  });
}
