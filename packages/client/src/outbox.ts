import {
  type Ack,
  type ChatMessage,
  ChorusError,
  type ErrorCode,
  type MessageSendPayload,
  type MessageSendResult,
} from '@chorus/protocol';

/** Error codes after which the same request may succeed later; any other is final. */
export const RETRYABLE: ReadonlySet<ErrorCode> = new Set([
  'UNAVAILABLE',
  'INTERNAL',
  'RATE_LIMITED',
  'NOT_IN_ROOM',
]);

export function isFinal(error: unknown): boolean {
  return error instanceof ChorusError && !RETRYABLE.has(error.code);
}

/** What the outbox needs from the client. `C` is a connection; its identity tells attempts apart. */
export interface OutboxTransport<C extends object> {
  /** The live connection, or undefined while (re)connecting. */
  current(): C | undefined;
  /** Sends on `connection`; rejects when no ack came in time. */
  send(connection: C, payload: MessageSendPayload): Promise<Ack<MessageSendResult>>;
  /** Whether the client still wants `room` (sends to a room it left are dropped). */
  wantsRoom(room: string): boolean;
  /** A send will be tried again; `code` is absent when no answer came. */
  retrying(event: { room: string; clientMsgId: string; attempts: number; code?: ErrorCode }): void;
}

interface Entry<C> {
  payload: MessageSendPayload & { clientMsgId: string };
  resolve: (message: ChatMessage) => void;
  reject: (error: unknown) => void;
  /** The connection of the attempt in flight, if any. */
  inFlightOn: C | undefined;
  attempts: number;
  retry: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Unacknowledged sends. Each is retried with the same `clientMsgId` (so the server stores it once) after a
 * timeout, a lost connection or a passing error, with jittered exponential backoff (at least the server's
 * `retryAfterMs`), until it is acknowledged, refused for good, or the client leaves the room or closes.
 *
 * A room's sends go out one at a time, in the order they were made: the next waits until the one before it
 * is acknowledged (or refused for good). So a person's messages are stored, and shown to everyone, in the order
 * they were sent, even when one of them had to be retried after a rate limit, an outage or a reconnect.
 */
export class Outbox<C extends object> {
  readonly #entries = new Map<string, Entry<C>>();
  readonly #transport: OutboxTransport<C>;

  constructor(transport: OutboxTransport<C>) {
    this.#transport = transport;
  }

  get size(): number {
    return this.#entries.size;
  }

  add(room: string, text: string, clientMsgId: string): Promise<ChatMessage> {
    return new Promise<ChatMessage>((resolve, reject) => {
      const entry: Entry<C> = {
        payload: { room, text, clientMsgId },
        resolve,
        reject,
        inFlightOn: undefined,
        attempts: 0,
        retry: undefined,
      };
      this.#entries.set(clientMsgId, entry);
      this.#transmit(entry);
    });
  }

  /** Sends each room's first waiting send that is not in flight on the current connection (after a reconnect). */
  flush(): void {
    for (const entry of this.#entries.values()) this.#transmit(entry);
  }

  /** Whether `entry` is the oldest send of its room still waiting: only that one may be on the wire. */
  #isHead(entry: Entry<C>): boolean {
    for (const other of this.#entries.values()) {
      if (other.payload.room === entry.payload.room) return other === entry;
    }
    // Stryker disable next-line BooleanLiteral: unreachable: only entries still in the map are asked about, and the loop meets them
    return false;
  }

  /** Sends the next waiting send of `room`, now that the one before it is settled. */
  #next(room: string): void {
    for (const entry of this.#entries.values()) {
      if (entry.payload.room === room) {
        this.#transmit(entry);
        return;
      }
    }
  }

  /** The connection dropped: attempts on it will get no answer, so they may be sent again. */
  connectionLost(): void {
    for (const entry of this.#entries.values()) entry.inFlightOn = undefined;
  }

  /** Rejects every send of `room` with `error`. */
  dropRoom(room: string, error: ChorusError): void {
    for (const [id, entry] of this.#entries) {
      if (entry.payload.room !== room) continue;
      this.#settle(id, entry, false);
      entry.reject(error);
    }
  }

  rejectAll(error: ChorusError): void {
    for (const [id, entry] of this.#entries) {
      this.#settle(id, entry, false);
      entry.reject(error);
    }
  }

  /** Forgets a send; with `advance`, the room's next one goes out. */
  #settle(id: string, entry: Entry<C>, advance = true): void {
    clearTimeout(entry.retry);
    this.#entries.delete(id);
    if (advance) this.#next(entry.payload.room);
  }

  #transmit(entry: Entry<C>): void {
    const connection = this.#transport.current();
    const id = entry.payload.clientMsgId;
    // Stryker disable next-line ConditionalExpression: `!this.#entries.has(id)` as false is equivalent (every caller passes an entry still in the map: settling clears its retry timer); the other conditions of this line are killed by outbox.edges.test.ts and the property test
    if (!connection || entry.inFlightOn === connection || !this.#entries.has(id) || !this.#isHead(entry))
      return;
    clearTimeout(entry.retry);
    entry.inFlightOn = connection;
    entry.attempts += 1;
    const retryLater = (code?: ErrorCode, retryAfterMs = 0) => {
      if (entry.inFlightOn === connection) entry.inFlightOn = undefined;
      clearTimeout(entry.retry);
      this.#transport.retrying({
        room: entry.payload.room,
        clientMsgId: id,
        attempts: entry.attempts,
        ...(code ? { code } : {}),
      });
      // The server said when it will take the send again: wait that long (a little more, spread); otherwise back
      // off exponentially.
      const wait =
        retryAfterMs > 0
          ? retryAfterMs * (1 + Math.random() / 5)
          : Math.min(5_000, 100 * 2 ** Math.min(entry.attempts, 6)) * (0.5 + Math.random() / 2);
      entry.retry = setTimeout(() => this.#transmit(entry), wait);
    };
    this.#transport.send(connection, entry.payload).then(
      (response) => {
        if (this.#entries.get(id) !== entry) return;
        if (response.ok) {
          this.#settle(id, entry);
          entry.resolve(response.message);
        } else if (RETRYABLE.has(response.error.code) && this.#transport.wantsRoom(entry.payload.room)) {
          retryLater(response.error.code, response.error.retryAfterMs);
        } else {
          this.#settle(id, entry);
          const { code, message, details } = response.error;
          entry.reject(new ChorusError(code, message, details));
        }
      },
      () => {
        if (this.#entries.get(id) === entry) retryLater();
      },
    );
  }
}

/** A unique idempotency key; works where `crypto.randomUUID` is missing (plain-HTTP browser pages). */
export function newClientMsgId(): string {
  const c = globalThis.crypto;
  if (typeof c.randomUUID === 'function') return c.randomUUID();
  const bytes = new Uint8Array(16);
  c.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
