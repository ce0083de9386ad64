import {
  type ChorusClient,
  type ChorusClientOptions,
  createChorusClient,
  type RawArrival,
} from '@chorus/client';
import type { DeliveryHistory } from './delivery-history';
import { eventually, sleep } from './wait';

/**
 * A chat member under test that records into a `DeliveryHistory` everything its application would see: its
 * sends and how they ended, each message its handler got, reloads and reconnect times; and, before its own
 * dedupe, every message that arrived on each of its connections (live events and join acks).
 */
export interface Participant {
  readonly name: string;
  readonly rooms: string[];
  /** Joins `room` and records the membership from the moment the join is acknowledged. */
  join(room: string): Promise<void>;
  /** Sends the next message (unique text and clientMsgId) to `room`; does not wait for the ack. */
  send(room: string): void;
  /** Sends not settled yet. */
  pending(): number;
  /** Stops; sends still unsettled are recorded as timed out. */
  close(): void;
}

const participants = new Set<Participant>();

/** Closes every participant still open; call from afterEach. */
export function closeAllParticipants(): void {
  for (const p of [...participants]) p.close();
}

/** Records `participant` for `closeAllParticipants`; call the returned function when it closes. */
export function trackParticipant(participant: Participant): () => void {
  participants.add(participant);
  return () => participants.delete(participant);
}

export interface SdkParticipant extends Participant {
  client: ChorusClient;
}

/** A participant on the `@chorus/client` SDK (its own reconnects, outbox, dedupe and gap fill). */
export function sdkParticipant(
  history: DeliveryHistory,
  name: string,
  options: Omit<ChorusClientOptions, 'name'>,
): SdkParticipant {
  const client = createChorusClient({ transports: ['websocket'], ackTimeoutMs: 2_000, ...options, name });
  client.on('message', (m) => history.deliver(name, m));
  client.on('raw', (arrival) => recordRaw(history, name, arrival));
  client.on('reset', (e) => history.reset(name, e.room, e.epoch, e.history));
  client.on('resumed', (e) => history.reconnected(e.ms));
  const rooms: string[] = [];
  let inFlight = 0;
  let count = 0;
  let closed = false;
  const participant: SdkParticipant = {
    name,
    rooms,
    client,
    async join(room) {
      await client.join(room);
      rooms.push(room);
      history.joined(name, room);
    },
    send(room) {
      count += 1;
      const clientMsgId = `${name}.${count}`;
      const handle = history.send(name, room, `${name} #${count}`, clientMsgId);
      inFlight += 1;
      client
        .send(room, handle.record.text, { clientMsgId })
        .then(
          (message) => handle.acked(message),
          (error: { code?: string }) => {
            if (closed) handle.timedOut();
            else handle.failed(error.code ?? 'ERROR');
          },
        )
        .finally(() => {
          inFlight -= 1;
        });
    },
    pending: () => inFlight,
    close() {
      if (closed) return;
      closed = true;
      untrack();
      client.close();
    },
  };
  const untrack = trackParticipant(participant);
  return participant;
}

/** Records an SDK client's raw arrival (its `raw` event, before dedupe) into `history`. */
export function recordRaw(history: DeliveryHistory, name: string, arrival: RawArrival): void {
  if (arrival.kind === 'message') history.rawMessage(name, arrival.connection, arrival.message);
  else history.rawJoin(name, arrival.connection, arrival.result, arrival.since);
}

/**
 * Has every participant send to one of its rooms about every `intervalMs` (jittered) until `durationMs` has
 * passed. Sends do not wait for their acks, so an outage piles them up in outboxes as it would in real use.
 */
export async function chatFor(
  members: Participant[],
  durationMs: number,
  { intervalMs = 300 }: { intervalMs?: number } = {},
): Promise<void> {
  const until = Date.now() + durationMs;
  await Promise.all(
    members.map(async (member, i) => {
      await sleep((i * 37) % intervalMs);
      while (Date.now() < until) {
        const room = member.rooms[Math.floor(Math.random() * member.rooms.length)];
        if (room) member.send(room);
        await sleep(intervalMs * (0.5 + Math.random()));
      }
    }),
  );
}

/**
 * Waits (up to `timeoutMs`) until no send is unsettled and nothing acked is still missing anywhere, so the
 * check that follows judges the end state rather than messages in flight.
 */
export async function quiesce(
  history: DeliveryHistory,
  members: Participant[],
  { timeoutMs = 15_000 }: { timeoutMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const left = () => Math.max(100, deadline - Date.now());
  await eventually(() => members.every((m) => m.pending() === 0), {
    timeoutMs: left(),
    intervalMs: 100,
  }).catch(() => {});
  await eventually(
    () => {
      const { lost, gaps } = history.check().totals;
      return lost === 0 && gaps === 0;
    },
    { timeoutMs: left(), intervalMs: 200 },
  ).catch(() => {});
}
