import {
  type ChatMessage,
  ChorusError,
  type HistoryGetPayload,
  LIMITS,
  newestWithin,
  type User,
} from '@chorus/protocol';
import { roomAccess } from '../auth/room-access';
import type { Connection } from '../connection';
import type { GatewayContext } from '../context';
import { timed } from '../metrics/metrics';

/** Sends one gateway may have waiting on Redis at once before it answers `RATE_LIMITED`. */
export const DEFAULT_MAX_SENDS_IN_FLIGHT = 2_000;

export interface ChatService {
  send(
    conn: Connection,
    request: { room: string; text: string; clientMsgId?: string | undefined },
  ): Promise<ChatMessage>;
  /**
   * Appends a message from the server side (the server API): same sequence, history, live delivery and
   * idempotency as a client's send, without a connection's budgets or room membership.
   */
  post(request: {
    room: string;
    user: User;
    text: string;
    clientMsgId?: string | undefined;
  }): Promise<{ message: ChatMessage; duplicate: boolean }>;
  history(conn: Connection, request: HistoryGetPayload): Promise<ChatMessage[]>;
  /** A page of a room's history (what `history` answers), for the server side: any room, with its epoch. */
  page(request: HistoryGetPayload): Promise<{ epoch: string; messages: ChatMessage[] }>;
}

/** What a page of history may take of an answer, leaving room for the envelope. */
const HISTORY_BUDGET_BYTES = LIMITS.maxAnswerBytes - 4096;

/** How long a client is asked to wait when the gateway has too many sends in flight. */
const OVERLOAD_RETRY_MS = 200;

export function createChatService(
  { deps, inflight, metrics, addressLimiter, isStopping }: GatewayContext,
  { maxSendsInFlight = DEFAULT_MAX_SENDS_IN_FLIGHT }: { maxSendsInFlight?: number } = {},
): ChatService {
  // Being in the room means the join passed the access check; outside it, a room one may not enter answers
  // FORBIDDEN (not NOT_IN_ROOM, which would invite a join that cannot succeed).
  const requireRoom = (conn: Connection, room: string) => {
    if (conn.rooms.has(room)) return;
    roomAccess.check(conn, room);
    throw new ChorusError('NOT_IN_ROOM', `join room ${room} first`);
  };

  async function page({
    room,
    before,
    limit = LIMITS.historyDefault,
  }: HistoryGetPayload): Promise<{ epoch: string; messages: ChatMessage[] }> {
    const read =
      before === undefined
        ? await deps.messages.latest(room, limit)
        : await deps.messages.before(room, before, limit);
    // Long texts make a full page too big to send: fewer, the newest ones; the client pages on with before.
    return { epoch: read.epoch, messages: newestWithin(read.messages, HISTORY_BUDGET_BYTES) };
  }

  /** The one way into a room's history, for clients and the server API alike. */
  async function append(request: {
    room: string;
    user: User;
    text: string;
    clientMsgId?: string | undefined;
  }): Promise<{ message: ChatMessage; duplicate: boolean }> {
    if (isStopping()) throw new ChorusError('UNAVAILABLE', 'this gateway is stopping; retry');
    // Past what Redis can take from this gateway, more sends only queue up: push back instead, so latency
    // stays bounded and nothing is torn down.
    if (inflight.count >= maxSendsInFlight) {
      metrics.rateLimited.inc();
      throw ChorusError.rateLimited('the server is busy, retry shortly', OVERLOAD_RETRY_MS);
    }
    const { clientMsgId, ...rest } = request;
    const result = await inflight.track(
      timed(metrics.adapterPublish, () =>
        deps.messages.append({
          ...rest,
          ts: Date.now(),
          ...(clientMsgId !== undefined ? { clientMsgId } : {}),
        }),
      ),
    );
    if (!result.duplicate) metrics.messagesIn.inc();
    return result;
  }

  return {
    async send(conn, { room, text, clientMsgId }) {
      requireRoom(conn, room);
      if (isStopping()) throw new ChorusError('UNAVAILABLE', 'this gateway is stopping; retry');
      if (!conn.limiter.take()) {
        metrics.rateLimited.inc();
        throw ChorusError.rateLimited('too many messages, slow down', conn.limiter.retryAfterMs());
      }
      // The address's and the user's budgets across the cluster (many connections from one address, or of one
      // user from many addresses, share them).
      try {
        addressLimiter.take('sends', conn.address);
        addressLimiter.take('userSends', conn.user.id);
      } catch (error) {
        metrics.rateLimited.inc();
        throw error;
      }
      const { message, duplicate } = await append({
        room,
        user: conn.user,
        text,
        ...(clientMsgId !== undefined ? { clientMsgId } : {}),
      });
      conn.log.debug({ room, seq: message.seq, duplicate }, 'message appended');
      return message;
    },

    post: append,

    async history(conn, request) {
      requireRoom(conn, request.room);
      return (await page(request)).messages;
    },

    page,
  };
}
