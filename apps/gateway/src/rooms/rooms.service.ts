import {
  type ChatMessage,
  ChorusError,
  LIMITS,
  messageSizeBound,
  type Position,
  type RoomJoinResult,
  type RoomsListResult,
} from '@chorus/protocol';
import { dmRoomName, roomAccess } from '../auth/room-access';
import type { AnnouncedPresence } from '../bus/room-bus';
import type { Connection } from '../connection';
import type { GatewayContext } from '../context';
import { ConcurrencyGate } from '../limits/concurrency-gate';
import { withHeard } from './presence-delivery';
import type { PresenceChange } from './presence-store';

const REPLAY_PAGE = 500;
/**
 * What a resume's history may take of the join ack, leaving room for the members and the envelope. It also
 * bounds how many messages a resume replays (every message counts 256 bytes or more): a longer gap answers
 * `recovered: false` and the client reloads.
 */
const REPLAY_BUDGET_BYTES = LIMITS.maxAnswerBytes - 256 * 1024;
/** A leave Redis did not take is retried after this, then doubling up to the maximum. */
const LEAVE_RETRY_FIRST_MS = 500;
const LEAVE_RETRY_MAX_MS = 30_000;
/** Longest a join waits for the gateway's feed to reach what the join read. */
const FEED_CATCH_UP_MS = 3_000;

export interface RoomService {
  join(conn: Connection, request: { room: string; since?: Position | undefined }): Promise<RoomJoinResult>;
  leave(conn: Connection, room: string): Promise<void>;
  /** Leaves every room; used when a connection closes. Never throws. */
  leaveAll(conn: Connection): Promise<void>;
  /** The direct-message room of the connection's user and `user` (joined like any room, by its two users only). */
  openDm(conn: Connection, user: string): { room: string };
  /** One page of the cluster's rooms, busiest first. */
  list(request: { cursor?: number | undefined; limit?: number | undefined }): Promise<RoomsListResult>;
}

/** Joins one gateway works on at once (`MAX_JOINS_IN_FLIGHT`); more wait their turn (see `ConcurrencyGate`). */
export const DEFAULT_MAX_JOINS_IN_FLIGHT = 64;

export function createRoomService(
  ctx: GatewayContext,
  { maxJoinsInFlight = DEFAULT_MAX_JOINS_IN_FLIGHT }: { maxJoinsInFlight?: number } = {},
): RoomService {
  const { deps, presenceNode: nodeId } = ctx;
  const joins = new ConcurrencyGate(maxJoinsInFlight);
  const { presence, messages } = deps;
  const { feed } = ctx;

  /** Every message after `since`, when the room still has all of them in the same epoch. */
  async function replay(
    room: string,
    since: Position,
  ): Promise<{ epoch: string; messages: ChatMessage[] } | null> {
    const out: ChatMessage[] = [];
    let after = since.seq;
    let bytes = 0;
    for (;;) {
      const page = await messages.after(room, after, REPLAY_PAGE);
      if (page.epoch !== since.epoch || !page.complete) return null;
      for (const message of page.messages) {
        // A hole (a seq never written) cannot be replayed either: the client reloads instead.
        if (message.seq !== after + 1) return null;
        // An answer past the size cap is not sent: the client reloads the latest history instead.
        bytes += messageSizeBound(message);
        if (bytes > REPLAY_BUDGET_BYTES) return null;
        out.push(message);
        after = message.seq;
      }
      if (page.messages.length < REPLAY_PAGE) {
        // Nothing after the position: it must still be one the log reached. A position past the log's end
        // (forged, or a tail the log lost) is not recovered; taken as is, it would start this gateway's feed
        // there, and the feed would drop the room's next messages for every member here as already seen.
        if (out.length === 0) {
          const head = await messages.latest(room, 1);
          if ((head.messages.at(-1)?.seq ?? 0) < since.seq) return null;
        }
        return { epoch: page.epoch, messages: out };
      }
    }
  }

  async function leave(conn: Connection, room: string): Promise<void> {
    if (!conn.rooms.has(room)) throw new ChorusError('NOT_IN_ROOM', `not in room ${room}`);
    conn.rooms.delete(room);
    conn.unsubscribe(room);
    feed.untrack(room);
    const membership = { room, connId: conn.id, user: conn.user, node: nodeId };
    const removed = await presence.leave(membership).catch((error: unknown) => {
      // Redis is busy or away: the connection has left here; the membership goes as soon as Redis answers.
      conn.log.warn({ room, err: { message: (error as Error).message } }, 'leave not recorded yet; retrying');
      retryLeave(conn, membership, LEAVE_RETRY_FIRST_MS);
      return undefined;
    });
    if (removed?.connection) conn.log.info({ room }, 'left room');
    // The user is gone from the room once their last connection is (another tab may still be in).
    if (removed?.user) ctx.presenceAnnouncer.announce({ room, user: conn.user, state: 'left' });
  }

  /** Retries removing a membership, backing off, until Redis takes it (or the gateway's incarnation expires). */
  function retryLeave(
    conn: Connection,
    membership: Parameters<typeof presence.leave>[0],
    delayMs: number,
  ): void {
    const timer = setTimeout(() => {
      presence.leave(membership).then(
        (change) => {
          // Nothing removed means the attempt that timed out went through when Redis came back, and what it
          // found is unknown: announced then too, or the user would stay listed for everyone.
          if (change.user || !change.connection) {
            ctx.presenceAnnouncer.announce({ room: membership.room, user: conn.user, state: 'left' });
          }
        },
        () => retryLeave(conn, membership, Math.min(delayMs * 2, LEAVE_RETRY_MAX_MS)),
      );
    }, delayMs);
    timer.unref();
  }

  async function join(
    conn: Connection,
    { room, since }: { room: string; since?: Position | undefined },
  ): Promise<RoomJoinResult> {
    // The client left while its join waited its turn: nobody to answer, nothing to record.
    if (conn.closed) throw new ChorusError('UNAVAILABLE', 'the connection closed');
    roomAccess.check(conn, room);
    const already = conn.rooms.has(room);
    if (!already && conn.rooms.size >= LIMITS.roomsPerSocket) {
      throw new ChorusError('FORBIDDEN', `a connection may be in at most ${LIMITS.roomsPerSocket} rooms`);
    }
    let subscribed = Promise.resolve();
    if (!already) {
      conn.rooms.add(room);
      subscribed = feed.track(room);
    }
    // Buffer what the feed delivers while the history is read, then append what the read did not see: the
    // ack carries a gapless history, and the connection goes live in the same tick it is sent.
    const buffered: ChatMessage[] = [];
    const stopWatching = feed.watch(room, (message) => buffered.push(message));
    // Likewise the presence heard until then, folded into the member list the ack carries.
    const heard: AnnouncedPresence[] = [];
    const stopHearing = ctx.presenceWatch.watch(room, (changes) => heard.push(...changes));
    let joined: PresenceChange | undefined;
    try {
      // The gateway hears the room from here on, so the history read below misses nothing.
      await subscribed;
      // The membership (with the member list) and the history are read at once: one round trip each, side by
      // side. Both are awaited before anything is decided, so a failure of either leaves no membership behind.
      const membership = { room, connId: conn.id, user: conn.user, node: nodeId };
      const [entered, read] = await Promise.allSettled([
        presence.enter(membership, LIMITS.joinMembersMax),
        since
          ? replay(room, since).then(async (resumed) => ({
              resumed,
              page: resumed ?? (await messages.latest(room, LIMITS.joinHistory)),
            }))
          : messages.latest(room, LIMITS.joinHistory).then((page) => ({ resumed: null, page })),
      ]);
      if (entered.status === 'fulfilled') joined = entered.value.change;
      if (entered.status === 'rejected') throw entered.reason;
      if (read.status === 'rejected') throw read.reason;
      const members = entered.value.members;
      const { resumed, page } = read.value;
      const change = entered.value.change;
      // Nobody else here and nothing said yet: this join brings the room into being, from the address's budget.
      if (!already && members.count <= 1 && page.messages.length === 0 && !since) {
        ctx.addressLimiter.take('newRooms', conn.address);
      }
      if (change.connection) conn.log.info({ room }, 'joined room');
      // A user is announced when their first connection comes in, wherever it is; another tab is not news.
      if (change.user) ctx.presenceAnnouncer.announce({ room, user: conn.user, state: 'joined' }, conn.id);
      const history = [...page.messages];
      let last = history.at(-1)?.seq ?? (resumed ? since!.seq : 0);
      feed.seen(room, page.epoch, last);
      // The read may be ahead of what this gateway's feed has handed out (pub/sub lags the log a little,
      // or the feed is catching up): go live only once the feed got there, or it would hand this connection
      // again what the ack carries.
      if (!(await feed.reached(room, page.epoch, last, FEED_CATCH_UP_MS))) {
        throw new ChorusError('UNAVAILABLE', 'the room feed is behind; retry the join');
      }
      for (const message of buffered) {
        if (message.epoch === page.epoch && message.seq === last + 1) {
          history.push(message);
          last = message.seq;
        }
      }
      // It left while this join was under way: its leave may have run before the membership was written, so
      // the failure path takes the membership back (a leave of what is gone already changes nothing).
      if (conn.closed) throw new ChorusError('UNAVAILABLE', 'the connection closed');
      conn.subscribe(room);
      const current = withHeard(members, heard, conn.user.id, LIMITS.joinMembersMax);
      return {
        room,
        members: current.users,
        memberCount: current.count,
        epoch: page.epoch,
        history,
        ...(since ? { recovered: resumed !== null } : {}),
      };
    } catch (error) {
      // Unless a leave (the connection closing) took the room back meanwhile, and untracked it already.
      if (!already && conn.rooms.delete(room)) feed.untrack(room);
      // A join that failed leaves no membership behind (the caller may retry it).
      if (joined?.connection) {
        presence.leave({ room, connId: conn.id, user: conn.user, node: nodeId }).then(
          (change) => {
            if (change.user) ctx.presenceAnnouncer.announce({ room, user: conn.user, state: 'left' });
          },
          () => {},
        );
      }
      throw error;
    } finally {
      stopWatching();
      stopHearing();
    }
  }

  return {
    join: (conn, request) => joins.run(() => join(conn, request)),

    leave,

    openDm(conn, user) {
      const room = dmRoomName(conn.user.id, user);
      // The other user hears of it on every connection they have, wherever: they may join the room too.
      if (user !== conn.user.id) ctx.inboxes.notify(user, { room, user: conn.user });
      return { room };
    },

    async leaveAll(conn) {
      await Promise.all(
        [...conn.rooms].map((room) =>
          leave(conn, room).catch((error: unknown) =>
            conn.log.warn({ room, err: { message: (error as Error).message } }, 'leave on close failed'),
          ),
        ),
      );
    },

    async list({ cursor = 0, limit = LIMITS.roomsListDefault }) {
      const rooms = await presence.rooms({ offset: cursor, limit });
      const next = cursor + rooms.length;
      return rooms.length === limit && next < LIMITS.roomsListDepth ? { rooms, nextCursor: next } : { rooms };
    },
  };
}
