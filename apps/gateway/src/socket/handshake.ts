import { randomBytes } from 'node:crypto';
import { HandshakeAuthSchema, type User } from '@chorus/protocol';
import type { ChorusServer } from '../context';

/** A server-assigned user id; one per connection until accounts exist. */
export function newUserId(): string {
  return `u-${randomBytes(6).toString('base64url')}`;
}

export function guestName(): string {
  return `guest-${randomBytes(2).toString('hex')}`;
}

/** An error for Socket.IO's `connect_error`, with the code in `err.data.code`. */
export function handshakeError(code: 'INVALID_PAYLOAD' | 'UNAUTHORIZED' | 'FORBIDDEN', message: string) {
  return Object.assign(new Error(message), { data: { code, message } });
}

/** Checks `auth: { name? }` and puts the connection's user on `socket.data`. */
export function useHandshake(io: ChorusServer): void {
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
    next();
  });
}
