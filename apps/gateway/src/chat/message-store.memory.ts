import { type ChatMessage, toUser } from '@chorus/protocol';
import {
  type AppendInput,
  type AppendResult,
  DEFAULT_HISTORY_CAP,
  EpochCandidates,
  type HistoryPage,
  type MessageStore,
  messageId,
} from './message-store';

interface RoomLog {
  epoch: string;
  seq: number;
  /** Kept in seq order; trimmed from the front past the cap. */
  messages: ChatMessage[];
  /** `clientMsgId` → its message, for the room's last `historyCap` messages, in seq order. */
  idempotency: Map<string, ChatMessage>;
}

export interface MemoryMessageStoreOptions {
  historyCap?: number;

  /** Where each new message goes once stored: the memory bus (`MemoryRoomBus.publishMessage`). */
  publish?: (message: ChatMessage) => void;
}

/** The embedded-mode message store: one process, so a plain Map and synchronous fan-out are atomic. */
export class MemoryMessageStore implements MessageStore {
  readonly #rooms = new Map<string, RoomLog>();
  readonly #publish: (message: ChatMessage) => void;
  readonly #cap: number;
  readonly #epochs = new EpochCandidates();

  constructor(options: MemoryMessageStoreOptions = {}) {
    this.#cap = options.historyCap ?? DEFAULT_HISTORY_CAP;
    this.#publish = options.publish ?? (() => {});
  }

  async append(input: AppendInput): Promise<AppendResult> {
    const log = this.#log(input.room);
    // Stryker disable next-line ConditionalExpression: nothing is ever stored under an undefined key, so the lookup alone would find nothing too
    if (input.clientMsgId !== undefined) {
      const seen = log.idempotency.get(input.clientMsgId);
      if (seen) return { message: seen, duplicate: true };
    }
    log.seq += 1;
    const message: ChatMessage = {
      id: messageId(log.epoch, log.seq),
      room: input.room,
      epoch: log.epoch,
      seq: log.seq,
      user: toUser(input.user),
      text: input.text,
      ts: input.ts,
      ...(input.clientMsgId !== undefined ? { clientMsgId: input.clientMsgId } : {}),
    };
    log.messages.push(message);
    // Stryker disable next-line ConditionalExpression,EqualityOperator: a splice of a count ≤ 0 removes nothing; the guard only saves the call
    if (log.messages.length > this.#cap) log.messages.splice(0, log.messages.length - this.#cap);
    // Stryker disable next-line ConditionalExpression: an entry under an undefined key is never looked up (see above) and leaves with the window
    if (input.clientMsgId !== undefined) {
      log.idempotency.set(input.clientMsgId, message);
      this.#forgetIdempotency(log);
    }
    this.#publish(message);
    return { message, duplicate: false };
  }

  async latest(room: string, limit: number): Promise<HistoryPage> {
    const log = this.#log(room);
    return { epoch: log.epoch, messages: log.messages.slice(-limit) };
  }

  async before(room: string, before: number, limit: number): Promise<HistoryPage> {
    const log = this.#log(room);
    const older = log.messages.filter((m) => m.seq < before);
    return { epoch: log.epoch, messages: older.slice(-limit) };
  }

  async after(room: string, after: number, limit: number): Promise<HistoryPage & { complete: boolean }> {
    const log = this.#log(room);
    // The log is empty only before its first append (the cap is at least 1), when seq is 0: any read is complete.
    // Stryker disable next-line ArithmeticOperator: with seq 0, seq - 1 and seq + 1 both make a read from 0 or later complete
    const oldestKept = log.messages[0]?.seq ?? log.seq + 1;
    const newer = log.messages.filter((m) => m.seq > after).slice(0, limit);
    return { epoch: log.epoch, messages: newer, complete: after + 1 >= oldestKept };
  }

  #log(room: string): RoomLog {
    let log = this.#rooms.get(room);
    if (!log) {
      log = { epoch: this.#epochs.next(), seq: 0, messages: [], idempotency: new Map() };
      this.#rooms.set(room, log);
    }
    return log;
  }

  #forgetIdempotency(log: RoomLog): void {
    // Map iterates in insertion order, which is seq order: stop at the first key still in the window.
    for (const [key, message] of log.idempotency) {
      if (message.seq > log.seq - this.#cap) break;
      log.idempotency.delete(key);
    }
  }
}
