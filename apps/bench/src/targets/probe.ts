import { closeClients, connectClients, joinRoom } from '../client/connect';
import type { GatewayHandle } from './target';

/**
 * Checks that every gateway answers the protocol (connect, `room:join`) and that they form one chat: a message
 * sent on the first reaches a member on each of the others. Returns why not, or undefined. Catches a gateway
 * that ignored its Redis settings and runs alone, which would otherwise show up later as lost deliveries.
 */
export async function probeSharedRooms(gateways: readonly GatewayHandle[]): Promise<string | undefined> {
  const room = `probe-${Math.random().toString(36).slice(2, 10)}`;
  const sockets = await connectClients(
    gateways.map((g) => g.url),
    gateways.length,
    { timeoutMs: 10_000 },
  );
  try {
    const joined = await Promise.all(sockets.map((s) => joinRoom(s, room, 10_000)));
    if (joined.some((ok) => !ok))
      return `a probe client could not join a room on ${gateways.map((g) => g.name)}`;
    const heard = sockets.slice(1).map(
      (socket) =>
        new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), 5_000);
          socket.on('message', (message) => {
            if (message.room !== room) return;
            clearTimeout(timer);
            resolve(true);
          });
        }),
    );
    sockets[0]!.emit('message:send', { room, text: 'probe' }, () => {});
    const results = await Promise.all(heard);
    const deaf = gateways.slice(1).filter((_, i) => !results[i]);
    if (deaf.length > 0) {
      return `${deaf.map((g) => g.name).join(', ')} did not receive a message sent on ${gateways[0]!.name} within 5 s`;
    }
    return undefined;
  } finally {
    closeClients(sockets);
  }
}
