import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChatMessage, ClientToServerEvents, ServerToClientEvents } from '@chorus/protocol';
import { Server } from 'socket.io';
import { afterEach, describe, expect, it } from 'vitest';
import { DeliveryHistory } from './delivery-history';
import { closeAllParticipants, type Participant, sdkParticipant } from './participants';
import { rawParticipant } from './raw-participant';
import { eventually } from './wait';

const message = (seq: number): ChatMessage => ({
  id: `e1:${seq}`,
  room: 'r',
  epoch: 'e1',
  seq,
  user: { id: 'u', name: 'sender' },
  text: `m${seq}`,
  ts: 0,
});

/**
 * A stand-in for a faulty gateway: it answers every join with an empty room, then sends `live` on that
 * connection as it is, repeats included.
 */
async function startFaultyGateway(live: ChatMessage[]) {
  const http = createServer();
  const io = new Server<ClientToServerEvents, ServerToClientEvents>(http);
  io.on('connection', (socket) => {
    socket.emit('session', { user: { id: socket.id, name: 'member' }, node: 'faulty' });
    socket.on('room:join', ({ room }, ack) => {
      ack({ ok: true, room, members: [], memberCount: 0, epoch: 'e1', history: [] });
      for (const m of live) socket.emit('message', m);
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => io.close() };
}

const closers: (() => unknown)[] = [];
afterEach(async () => {
  closeAllParticipants();
  await Promise.all(closers.splice(0).map((close) => close()));
});

describe('participants record what arrived on their connections before their own dedupe', () => {
  const kinds: [string, (history: DeliveryHistory, url: string) => Participant][] = [
    ['an SDK participant', (history, url) => sdkParticipant(history, 'member', { urls: [url] })],
    ['a raw participant', (history, url) => rawParticipant(history, 'member', { urls: [url] })],
  ];

  for (const [kind, make] of kinds) {
    it(`reports a gateway repeating a seq on ${kind}'s connection, though its application saw each seq once`, async () => {
      const gateway = await startFaultyGateway([message(1), message(2), message(2), message(4), message(3)]);
      closers.push(gateway.close);
      const history = new DeliveryHistory();
      const member = make(history, gateway.url);
      await member.join('r');
      await eventually(() => history.raw.filter((r) => r.kind === 'live').length === 5);
      await eventually(() => history.deliveries.length >= 3);

      const report = history.check();

      expect(report.totals).toMatchObject({ rawDeliveries: 5, rawDuplicates: 1, rawOutOfOrder: 1 });
      expect(report.examples.rawDuplicates).toEqual([expect.objectContaining({ client: 'member', seq: 2 })]);
      expect(report.examples.rawOutOfOrder).toEqual([expect.objectContaining({ client: 'member', seq: 3 })]);
      // What the application saw never shows the repeat.
      expect(report.totals.duplicated).toBe(0);
      expect(new Set(history.raw.map((r) => r.connection)).size).toBe(1);
    });
  }
});
