/**
 * The record of a chaos run that `checkHistory` judges: every logical send and how it ended, every message a
 * client's application handler saw, what arrived raw on each connection before any dedupe, memberships,
 * reloads and reconnect times. Texts must be unique per send.
 */

import { type CheckOptions, checkHistory, type Report } from './checker';

/** How one logical send ended, as its sender saw it. */
export type SendOutcome =
  | { kind: 'pending' }
  | { kind: 'acked'; epoch: string; seq: number; at: number }
  | { kind: 'failed'; code: string; at: number }
  | { kind: 'timeout'; at: number };

export interface SendRecord {
  client: string;
  room: string;
  clientMsgId: string | undefined;
  text: string;
  startedAt: number;
  outcome: SendOutcome;
}

/** One message as a client's application handler saw it (after the client's own dedupe). */
export interface Delivery {
  client: string;
  room: string;
  epoch: string;
  seq: number;
  text: string;
  clientMsgId: string | undefined;
  at: number;
  /** Position in the run's record, to order events that share a millisecond. */
  order: number;
}

/**
 * Room messages as they arrived on one connection, before any client-side dedupe: one live `message` event,
 * or the history of a `room:join` ack. `connection` is the socket's id (a new one after every reconnect).
 */
export type RawRecord =
  | {
      kind: 'live';
      client: string;
      connection: string;
      room: string;
      epoch: string;
      seq: number;
      text: string;
      order: number;
    }
  | {
      kind: 'join';
      client: string;
      connection: string;
      room: string;
      /** The room's epoch the ack answered with. */
      epoch: string;
      /** The position the join resumed from; undefined on a first join. */
      since: StoredPosition | undefined;
      recovered: boolean | undefined;
      history: { epoch: string; seq: number; text: string }[];
      order: number;
    };

/** What a `room:join` ack must look like to be recorded raw; `RoomJoinResult` fits. */
export interface JoinAnswer {
  room: string;
  epoch: string;
  history: DeliveredMessage[];
  recovered?: boolean | undefined;
}

/** A client was a member of `room` from `from` (its join acked) until `to` (undefined: the end of the run). */
export interface Membership {
  client: string;
  room: string;
  from: number;
  to: number | undefined;
}

/** A client's history of `room` was reloaded (a join answered `recovered: false`). */
export interface ResetRecord {
  client: string;
  room: string;
  epoch: string;
  at: number;
  order: number;
  /** The reloaded history (seq, text), oldest first. */
  history: { seq: number; text: string }[];
}

/** What a delivered message must look like to be recorded; `ChatMessage` fits. */
export interface DeliveredMessage {
  room: string;
  epoch: string;
  seq: number;
  text: string;
  clientMsgId?: string | undefined;
}

/** The position of a stored message, as an ack returns it. */
export interface StoredPosition {
  epoch: string;
  seq: number;
}

/** Handle on one logical send, to record how it ended. */
export interface SendHandle {
  readonly record: SendRecord;
  acked(position: StoredPosition, at?: number): void;
  failed(code: string, at?: number): void;
  timedOut(at?: number): void;
}

/** Records a run's sends, deliveries, memberships, reloads and reconnects, and checks them. */
export class DeliveryHistory {
  readonly sends: SendRecord[] = [];
  readonly deliveries: Delivery[] = [];
  readonly memberships: Membership[] = [];
  readonly resets: ResetRecord[] = [];
  /** Everything that arrived on each connection, before dedupe. */
  readonly raw: RawRecord[] = [];
  /** Reconnect-to-caught-up times in ms, one per reconnect. */
  readonly reconnects: number[] = [];
  readonly #now: () => number;
  #order = 0;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Starts recording a logical send; call it before the first attempt goes out. */
  send(client: string, room: string, text: string, clientMsgId?: string): SendHandle {
    const record: SendRecord = {
      client,
      room,
      clientMsgId,
      text,
      startedAt: this.#now(),
      outcome: { kind: 'pending' },
    };
    this.sends.push(record);
    return {
      record,
      acked: (position, at = this.#now()) => {
        record.outcome = { kind: 'acked', epoch: position.epoch, seq: position.seq, at };
      },
      failed: (code, at = this.#now()) => {
        record.outcome = { kind: 'failed', code, at };
      },
      timedOut: (at = this.#now()) => {
        record.outcome = { kind: 'timeout', at };
      },
    };
  }

  /** Records what a client's application handler saw. */
  deliver(client: string, message: DeliveredMessage, at = this.#now()): void {
    this.deliveries.push({
      client,
      room: message.room,
      epoch: message.epoch,
      seq: message.seq,
      text: message.text,
      clientMsgId: message.clientMsgId,
      at,
      order: ++this.#order,
    });
  }

  /** A live `message` event arrived on `connection`, before any dedupe: call it from the socket's listener. */
  rawMessage(client: string, connection: string, message: DeliveredMessage): void {
    this.raw.push({
      kind: 'live',
      client,
      connection,
      room: message.room,
      epoch: message.epoch,
      seq: message.seq,
      text: message.text,
      order: ++this.#order,
    });
  }

  /** A `room:join` on `connection` (resuming from `since`, if given) was answered `ok` with `answer`. */
  rawJoin(client: string, connection: string, answer: JoinAnswer, since?: StoredPosition): void {
    this.raw.push({
      kind: 'join',
      client,
      connection,
      room: answer.room,
      epoch: answer.epoch,
      since: since ? { epoch: since.epoch, seq: since.seq } : undefined,
      recovered: answer.recovered,
      history: answer.history.map((m) => ({ epoch: m.epoch, seq: m.seq, text: m.text })),
      order: ++this.#order,
    });
  }

  /** The client's first join of `room` was acked. */
  joined(client: string, room: string, at = this.#now()): void {
    this.memberships.push({ client, room, from: at, to: undefined });
  }

  /** The client left `room` (or stopped for good); its open membership ends now. */
  left(client: string, room: string, at = this.#now()): void {
    const open = this.memberships.find((m) => m.client === client && m.room === room && m.to === undefined);
    if (open) open.to = at;
  }

  reset(client: string, room: string, epoch: string, history: DeliveredMessage[], at = this.#now()): void {
    this.resets.push({
      client,
      room,
      epoch,
      at,
      order: ++this.#order,
      history: history.map((m) => ({ seq: m.seq, text: m.text })),
    });
  }

  /** A client reconnected and caught up `ms` after it lost its connection. */
  reconnected(ms: number): void {
    this.reconnects.push(ms);
  }

  check(options: CheckOptions = {}): Report {
    return checkHistory(this, options);
  }
}
