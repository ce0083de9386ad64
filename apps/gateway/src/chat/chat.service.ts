import { type ChatMessage, ChorusError, LIMITS, newestWithin } from '@chorus/protocol';
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
  history(
    conn: Connection,
    request: { room: string; before?: number | undefined; limit?: number | undefined },
  ): Promise<ChatMessage[]>;
}

/** What a page of history may take of an answer, leaving room for the envelope. */
const HISTORY_BUDGET_BYTES = LIMITS.maxAnswerBytes - 4096;

/** How long a client is asked to wait when the gateway has too many sends in flight. */
const OVERLOAD_RETRY_MS = 200;

export function createChatService(
  { deps, inflight, metrics, addressLimiter, isStopping }: GatewayContext,
  { maxSendsInFlight = DEFAULT_MAX_SENDS_IN_FLIGHT }: { maxSendsInFlight?: number } = {},
): ChatService {
  const requireRoom = (conn: Connection, room: string) => {
    if (!conn.rooms.has(room)) throw new ChorusError('NOT_IN_ROOM', `join room ${room} first`);
  };

  return {
    async send(conn, { room, text, clientMsgId }) {
      requireRoom(conn, room);
      if (isStopping()) throw new ChorusError('UNAVAILABLE', 'this gateway is stopping; retry');
      if (!conn.limiter.take()) {
        metrics.rateLimited.inc();
        throw ChorusError.rateLimited('too many messages, slow down', conn.limiter.retryAfterMs());
      }
      // The address's budget across the cluster (many connections from one address share it).
      try {
        addressLimiter.take('sends', conn.address);
      } catch (error) {
        metrics.rateLimited.inc();
        throw error;
      }
      // Past what Redis can take from this gateway, more sends only queue up: push back instead, so latency
      // stays bounded and nothing is torn down.
      if (inflight.count >= maxSendsInFlight) {
        metrics.rateLimited.inc();
        throw ChorusError.rateLimited('the server is busy, retry shortly', OVERLOAD_RETRY_MS);
      }
      const { message, duplicate } = await inflight.track(
        timed(metrics.adapterPublish, () =>
          deps.messages.append({
            room,
            user: conn.user,
            text,
            ts: Date.now(),
            ...(clientMsgId !== undefined ? { clientMsgId } : {}),
          }),
        ),
      );
      if (!duplicate) metrics.messagesIn.inc();
      conn.log.debug({ room, seq: message.seq, duplicate }, 'message appended');
      return message;
    },

    async history(conn, { room, before, limit = LIMITS.historyDefault }) {
      requireRoom(conn, room);
      const page =
        before === undefined
          ? await deps.messages.latest(room, limit)
          : await deps.messages.before(room, before, limit);
      // Long texts make a full page too big to send: fewer, the newest ones; the client pages on with before.
      return newestWithin(page.messages, HISTORY_BUDGET_BYTES);
    },
  };
}
