import { randomBytes } from 'node:crypto';
import { HandshakeAuthSchema, type User } from '@chorus/protocol';
import type { ChorusServer } from '../context';
import { clientAddress, type TrustedProxies } from '../http/client-address';
import type { AddressLimiter } from '../limits/address-limiter';

/** A server-assigned user id; one per connection until accounts exist. */
export function newUserId(): string {
  return `u-${randomBytes(6).toString('base64url')}`;
}

export function guestName(): string {
  return `guest-${randomBytes(2).toString('hex')}`;
}

/** An error for Socket.IO's `connect_error`, with the code in `err.data.code`. */
export function handshakeError(
  code: 'INVALID_PAYLOAD' | 'UNAUTHORIZED' | 'FORBIDDEN' | 'RATE_LIMITED',
  message: string,
) {
  return Object.assign(new Error(message), { data: { code, message } });
}

/**
 * Checks `auth: { name? }` and puts the connection's user on `socket.data`, then counts the connection against
 * its address's limit (refused with `RATE_LIMITED` past it; uncounted when it disconnects).
 */
export function useHandshake(io: ChorusServer, limiter: AddressLimiter, proxies: TrustedProxies): void {
  io.use((socket, next) => {
    const parsed = HandshakeAuthSchema.safeParse(socket.handshake.auth ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const path = issue?.path.join('.');
      return next(
        handshakeError('INVALID_PAYLOAD', `invalid auth${path ? `.${path}` : ''}: ${issue?.message}`),
      );
    }
    const user: User = { id: newUserId(), name: parsed.data.name ?? guestName() };
    socket.data.user = user;
    const address = clientAddress(socket.request, proxies);
    socket.data.address = address;
    limiter.open(address).then((allowed) => {
      if (!allowed) return next(handshakeError('RATE_LIMITED', 'too many connections from your address'));
      socket.once('disconnect', () => limiter.close(address));
      next();
    }, next);
  });
}
