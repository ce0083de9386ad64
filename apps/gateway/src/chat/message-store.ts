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

/** What a subscriber of the cluster's message feed hears. */
export interface FeedListener {
  /** A message appended anywhere in the cluster; each room's messages arrive in seq order. */
  message(message: ChatMessage): void;
  /**
   * The feed may have missed messages (its link dropped or stalled, or Redis restarted) and works again:
   * catch up from the log.
   */
  resync(): void;
}

/**
 * A room's ordered, capped message log, shared by the whole cluster.
 *
 * `append` is one atomic step: idempotency check, next seq, write to the log, publish to every subscriber.
 * So subscribers see each room's messages in seq order, whichever gateway appended them.
 */
export interface MessageStore {
  append(input: AppendInput): Promise<AppendResult>;
  /** The latest `limit` messages of `room`, oldest first. */
  latest(room: string, limit: number): Promise<HistoryPage>;
  /** Up to `limit` messages with seq < `before`, the newest of those, oldest first. */
  before(room: string, before: number, limit: number): Promise<HistoryPage>;
  /** Up to `limit` messages with seq > `after`, oldest first; `complete` is false when older ones were trimmed. */
  after(room: string, after: number, limit: number): Promise<HistoryPage & { complete: boolean }>;
  /** Registers a listener for every appended message of every room. Returns a function that removes it. */
  subscribe(listener: FeedListener): Promise<() => Promise<void>>;
  /** False while the feed is known not to deliver (link down or stalled). */
  feedHealthy(): boolean;
  /** Stops background work (the feed's liveness probe). */
  close(): void;
}

/** Messages kept per room when not configured otherwise. */
export const DEFAULT_HISTORY_CAP = 10_000;
/** How long a `clientMsgId` is remembered, in seconds. */
export const DEFAULT_IDEMPOTENCY_TTL_SECONDS = 3600;

export function messageId(epoch: string, seq: number): string {
  return `${epoch}:${seq}`;
}
