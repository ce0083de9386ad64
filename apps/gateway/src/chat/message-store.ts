import { randomBytes } from 'node:crypto';
import type { ChatMessage, User } from '@chorus/protocol';

/** What a handler asks the store to append; the store assigns `id`, `epoch` and `seq`. */
export interface AppendInput {
  room: string;
  user: User;
  text: string;
  clientMsgId?: string;
  /** Server time of the send, in ms since the Unix epoch. */
  ts: number;
}

export interface AppendResult {
  message: ChatMessage;
  /** True when `clientMsgId` was seen before: `message` is the original and nothing new was published. */
  duplicate: boolean;
}

/** A page of a room's history, oldest first. */
export interface HistoryPage {
  epoch: string;
  messages: ChatMessage[];
}

/**
 * A room's ordered, capped message log, shared by the whole cluster.
 *
 * `append` is one atomic step: idempotency check, next seq, write to the log, publish on the room's bus
 * channel (see `RoomBus`). So gateways hear each room's messages in seq order, whichever one appended them.
 */
export interface MessageStore {
  append(input: AppendInput): Promise<AppendResult>;
  /** The latest `limit` messages of `room`, oldest first. */
  latest(room: string, limit: number): Promise<HistoryPage>;
  /** Up to `limit` messages with seq < `before`, the newest of those, oldest first. */
  before(room: string, before: number, limit: number): Promise<HistoryPage>;
  /** Up to `limit` messages with seq > `after`, oldest first; `complete` is false when older ones were trimmed. */
  after(room: string, after: number, limit: number): Promise<HistoryPage & { complete: boolean }>;
}

/**
 * Messages kept per room when not configured otherwise. A room also remembers the `clientMsgId` of its last
 * `historyCap` messages, so a retried send within that window is stored once: what idempotency costs depends on
 * the history cap, not on the message rate.
 */
export const DEFAULT_HISTORY_CAP = 10_000;
/** A room whose log was not written for this long is deleted with its history (Redis key expiry). */
export const DEFAULT_ROOM_TTL_SECONDS = 30 * 24 * 3600;

export function messageId(epoch: string, seq: number): string {
  return `${epoch}:${seq}`;
}

/**
 * Epochs for rooms that have none yet: unique across the cluster and across restarts (a random prefix per store,
 * then a counter), without drawing random bytes (a system call) for every new room.
 */
export class EpochCandidates {
  readonly #prefix = randomBytes(5).toString('hex');
  #counter = 0;

  next(): string {
    this.#counter += 1;
    return `${this.#prefix}${this.#counter.toString(36)}`;
  }
}
