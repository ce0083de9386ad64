import type {
  Ack,
  ChatMessage,
  ClientToServerEvents,
  RoomJoinResult,
  ServerToClientEvents,
} from '@chorus/protocol';
import { io, type Socket } from 'socket.io-client';
import type { DeliveryHistory, SendHandle } from './delivery-history';
import { type Participant, trackParticipant } from './participants';
import { eventually } from './wait';

type RawSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

interface RawRoom {
  epoch: string | undefined;
  /** Highest seq seen in `epoch`: where a rejoin resumes. */
  last: number;
  /** Seqs already handed to the application in `epoch`: the only dedupe this client does. */
  seen: Set<number>;
  ready: boolean;
  /**
   * Messages that arrived while the join was in flight. They can be handled before the awaited join ack is:
   * several frames read at once are dispatched in one go, ahead of the ack's promise continuation.
   */
  early: ChatMessage[];
}

interface RawSend {
  room: string;
  text: string;
  clientMsgId: string;
  handle: SendHandle;
  lastError: string | undefined;
}

export interface RawParticipant extends Participant {
  /** The socket of the current connection, if any. */
  socket(): RawSocket | undefined;
}

/**
 * A participant on raw socket.io-client, as a third-party client would write it: it dedupes on (room, seq),
 * and after losing its connection opens a new socket to the next URL and rejoins its rooms with `since`. It
 * fills no gaps and orders nothing: what its handler sees is what the server delivered. Every live message and
 * join ack is also recorded raw, before that dedupe, under the socket's id.
 */
export function rawParticipant(
  history: DeliveryHistory,
  name: string,
  options: { urls: string[]; ackTimeoutMs?: number },
): RawParticipant {
  const ackTimeoutMs = options.ackTimeoutMs ?? 3_000;
  const rooms = new Map<string, RawRoom>();
  const outbox = new Map<string, RawSend>();
  let current: RawSocket | undefined;
  let urlIndex = 0;
  let lostAt: number | undefined;
  let closed = false;
  let count = 0;
  let reconnectTimer: NodeJS.Timeout | undefined;
  const joinWaiters: (() => void)[] = [];

  const ask = <E extends keyof ClientToServerEvents>(
    s: RawSocket,
    event: E,
    payload: Parameters<ClientToServerEvents[E]>[0],
  ): Promise<Ack<Record<string, unknown>>> =>
    // biome-ignore lint/suspicious/noExplicitAny: emitWithAck does not follow a generic event name
    (s.timeout(ackTimeoutMs) as any).emitWithAck(event, payload);

  const deliver = (message: ChatMessage) => {
    const room = rooms.get(message.room);
    if (!room) return;
    if (room.epoch !== message.epoch) {
      // The room's history was lost: what this client holds is stale. Rejoin to reload it.
      if (current) drop(current);
      return;
    }
    if (room.seen.has(message.seq)) return;
    room.seen.add(message.seq);
    room.last = Math.max(room.last, message.seq);
    history.deliver(name, message);
  };

  const rejoin = async (s: RawSocket, roomName: string, room: RawRoom) => {
    const since = room.epoch !== undefined ? { epoch: room.epoch, seq: room.last } : undefined;
    // Taken now: a socket that disconnects while the join is in flight forgets its id.
    const connection = s.id ?? '';
    const response = await ask(s, 'room:join', since ? { room: roomName, since } : { room: roomName });
    if (!response.ok) throw new Error(`${response.error.code} on room:join`);
    const result = response as unknown as RoomJoinResult;
    history.rawJoin(name, connection, result, since);
    if (since && result.recovered) {
      for (const m of result.history) deliver(m);
    } else {
      room.epoch = result.epoch;
      room.seen = new Set(result.history.map((m) => m.seq));
      room.last = result.history.at(-1)?.seq ?? 0;
      if (since) history.reset(name, roomName, result.epoch, result.history);
    }
    room.ready = true;
    for (const m of room.early.splice(0)) deliver(m);
  };

  const connect = () => {
    if (closed) return;
    const url = options.urls[urlIndex % options.urls.length]!;
    const s: RawSocket = io(url, {
      auth: { name },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      timeout: 3_000,
    });
    current = s;
    s.on('message', (m) => {
      if (s !== current) return;
      history.rawMessage(name, s.id ?? '', m);
      const room = rooms.get(m.room);
      if (room && !room.ready) room.early.push(m);
      else deliver(m);
    });
    s.on('connect_error', () => drop(s));
    s.on('disconnect', () => drop(s));
    s.on('session', async () => {
      try {
        await Promise.all([...rooms].map(([roomName, room]) => rejoin(s, roomName, room)));
      } catch {
        drop(s);
        return;
      }
      if (s !== current) return;
      if (lostAt !== undefined) history.reconnected(Date.now() - lostAt);
      lostAt = undefined;
      for (const waiter of joinWaiters.splice(0)) waiter();
    });
  };

  function drop(s: RawSocket): void {
    if (s !== current) return;
    s.removeAllListeners();
    s.disconnect();
    current = undefined;
    if (closed) return;
    lostAt ??= Date.now();
    for (const room of rooms.values()) {
      room.ready = false;
      room.early = [];
    }
    urlIndex += 1;
    reconnectTimer = setTimeout(connect, 100 + Math.random() * 200);
  }

  const attempt = (entry: RawSend) => {
    if (closed || !outbox.has(entry.clientMsgId)) return;
    const s = current;
    const retry = () => setTimeout(() => attempt(entry), 200 + Math.random() * 200).unref();
    if (!s?.connected || !rooms.get(entry.room)?.ready) {
      retry();
      return;
    }
    ask(s, 'message:send', { room: entry.room, text: entry.text, clientMsgId: entry.clientMsgId }).then(
      (response) => {
        if (!outbox.has(entry.clientMsgId)) return;
        if (response.ok) {
          outbox.delete(entry.clientMsgId);
          entry.handle.acked((response as unknown as { message: ChatMessage }).message);
        } else if (['UNAVAILABLE', 'NOT_IN_ROOM', 'RATE_LIMITED', 'INTERNAL'].includes(response.error.code)) {
          entry.lastError = response.error.code;
          retry();
        } else {
          outbox.delete(entry.clientMsgId);
          entry.handle.failed(response.error.code);
        }
      },
      () => {
        entry.lastError = 'TIMEOUT';
        retry();
      },
    );
  };

  connect();

  const participant: RawParticipant = {
    name,
    get rooms() {
      return [...rooms.keys()];
    },
    socket: () => current,
    async join(roomName) {
      const room: RawRoom = { epoch: undefined, last: 0, seen: new Set(), ready: false, early: [] };
      await eventually(() => current?.connected === true, { timeoutMs: 10_000 });
      rooms.set(roomName, room);
      await rejoin(current!, roomName, room);
      history.joined(name, roomName);
    },
    send(room) {
      count += 1;
      const clientMsgId = `${name}.${count}`;
      const entry: RawSend = {
        room,
        text: `${name} #${count}`,
        clientMsgId,
        handle: history.send(name, room, `${name} #${count}`, clientMsgId),
        lastError: undefined,
      };
      outbox.set(clientMsgId, entry);
      attempt(entry);
    },
    pending: () => outbox.size,
    close() {
      if (closed) return;
      closed = true;
      untrack();
      clearTimeout(reconnectTimer);
      current?.removeAllListeners();
      current?.disconnect();
      current = undefined;
      for (const entry of outbox.values()) {
        if (entry.lastError === undefined || entry.lastError === 'TIMEOUT') entry.handle.timedOut();
        else entry.handle.failed(entry.lastError);
      }
      outbox.clear();
    },
  };
  const untrack = trackParticipant(participant);
  return participant;
}
