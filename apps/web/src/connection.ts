import { createChorusClient, newClientMsgId } from '@chorus/client';
import {
  ChorusError,
  DM_ROOM_PREFIX,
  type ErrorCode,
  LIMITS,
  type RoomSummary,
  type User,
} from '@chorus/protocol';
import { mentionsMe, presenceNotice } from './format';
import { savedGuestToken, saveGuestToken } from './identity';
import { Timeline, type TimelineChange } from './timeline';

/** What the page says about its link to the server. No gateway names: those are for operators. */
export type ConnectionState =
  | { kind: 'connecting' }
  | { kind: 'connected' }
  | { kind: 'reconnecting' }
  | { kind: 'offline' };

/** A message typed on this page that the server has not acknowledged yet. */
export interface OutgoingMessage {
  id: string;
  room: string;
  text: string;
  /** `retrying`: refused for a passing reason (`code`, e.g. `RATE_LIMITED`) or not answered; sent again. */
  status: 'sending' | 'retrying';
  code?: ErrorCode;
}

/** A line in a room that is not a message: someone joined or left. Shown after the message `afterSeq`. */
export interface Notice {
  afterSeq: number;
  text: string;
  ts: number;
}

/** Everything the page keeps about one joined room. */
export interface RoomState {
  room: string;
  /** What the sidebar calls it: `#name`, or the other person's name for a direct conversation. */
  label: string;
  dm: boolean;
  timeline: Timeline;
  members: Map<string, User>;
  notices: Notice[];
  /** Messages from others since the room was last looked at, and how many of them mention this user. */
  unread: number;
  mentions: number;
  /** True once the join answered (history shown, sending makes sense). */
  ready: boolean;
  /** True when the oldest message of the room is shown (nothing older to load). */
  complete: boolean;
}

/** What a chat session reports to the page. */
export interface ChatListener {
  state(state: ConnectionState): void;
  /** Back after a disconnect, every room rejoined and caught up. */
  caughtUp(): void;
  /** A room was added (the join is under way) or its label, unread counts or readiness changed. */
  rooms(): void;
  messages(room: string, change: TimelineChange): void;
  members(room: string): void;
  notice(room: string, notice: Notice): void;
  typing(room: string, users: User[]): void;
  /** A send waiting for its ack, new or with a new status. */
  outgoing(message: OutgoingMessage): void;
  /** The send `id` was acknowledged (its message is among `messages`) or refused for good. */
  settled(room: string, id: string): void;
  /** A message from someone else that mentions this user arrived in `room`. */
  mentioned(room: string): void;
  problem(text: string): void;
}

export interface ChatSession {
  readonly rooms: ReadonlyMap<string, RoomState>;
  /** This page's user, once connected. */
  user(): User | undefined;
  /** Joins `room` (or focuses it when joined); `label` names a direct conversation. */
  join(room: string, label?: string): Promise<void>;
  leave(room: string): Promise<void>;
  /** Sends `text` through the SDK's outbox; resolves with the error when the server refused it for good. */
  send(room: string, text: string): Promise<ChorusError | undefined>;
  typing(room: string, typing: boolean): void;
  /** Loads a page of older messages of `room`; resolves with how many were new. */
  older(room: string): Promise<number>;
  /** The direct conversation with `user`, joined. */
  openDm(user: User): Promise<string>;
  browse(): Promise<RoomSummary[]>;
  /** The room on screen: its messages do not count as unread. */
  setActive(room: string | undefined, visible: boolean): void;
  isOwn(user: User): boolean;
  pending(): number;
  close(): void;
}

/** `message` (CODE), plus the first schema issue when there is one. */
export function describeError(error: ChorusError): string {
  const issue = error.details?.[0];
  return `${error.message}${issue ? ` (${issue.path}: ${issue.message})` : ''} [${error.code}]`;
}

const OLDER_PAGE = LIMITS.historyMax;

/**
 * One connection to the cluster (through the SDK, which resumes every room after a reconnection, retries sends
 * and hands over each message once, in order) and the page's view of every room joined on it: messages by
 * seq, members, join/leave notices, unread counts and who is typing.
 */
export function openChat(options: { name: string }, listener: ChatListener): ChatSession {
  const guestToken = savedGuestToken();
  const client = createChorusClient({
    urls: [location.origin],
    name: options.name,
    // The same guest after a reload (the server hands out a fresh token with every connection).
    ...(guestToken ? { guestToken } : {}),
    // WebSocket first: behind a load balancer without sticky sessions long-polling cannot work, and
    // tryAllTransports still falls back to it where WebSockets are blocked.
    transports: ['websocket', 'polling'],
    socketOptions: { tryAllTransports: true },
  });
  const rooms = new Map<string, RoomState>();
  const ownIds = new Set<string>();
  const outbox = new Map<string, OutgoingMessage>();
  let active: string | undefined;
  let visible = true;
  let closed = false;

  const show = (state: RoomState, change: TimelineChange) => {
    if (change.reset || change.added.length > 0) listener.messages(state.room, change);
  };

  client.on('state', (state) => {
    if (state === 'closed') listener.state({ kind: 'offline' });
    else listener.state({ kind: state });
  });
  client.on('resumed', () => listener.caughtUp());
  client.on('session', ({ user, guestToken: fresh }) => {
    ownIds.add(user.id);
    if (fresh) saveGuestToken(fresh);
  });
  client.on('message', (message) => {
    const state = rooms.get(message.room);
    if (!state) return;
    const change = state.timeline.add([message]);
    show(state, change);
    if (change.added.length === 0 || ownIds.has(message.user.id)) return;
    const seen = visible && active === message.room;
    const mention = mentionsMe(message.text, client.session?.user.name ?? options.name);
    if (!seen) {
      state.unread += 1;
      if (mention) state.mentions += 1;
      listener.rooms();
    }
    if (mention) listener.mentioned(message.room);
  });
  client.on('reset', (event) => {
    const state = rooms.get(event.room);
    if (!state) return;
    state.complete = event.history.length === 0 || event.history[0]!.seq <= 1;
    show(state, state.timeline.replace(event.history));
  });
  client.on('joined', (event) => {
    const state = rooms.get(event.room);
    if (!state) return;
    state.members.clear();
    for (const user of event.members) state.members.set(user.id, user);
    listener.members(event.room);
  });
  // Who came and went in this turn, per room: the SDK reports a batch (a mass reconnect) user by user, in one
  // turn, and the page redraws the member list and writes a notice once for all of them.
  const presenceTurn = new Map<string, { joined: string[]; left: string[] }>();
  const endPresenceTurn = (room: string) => {
    const names = presenceTurn.get(room);
    presenceTurn.delete(room);
    const state = rooms.get(room);
    if (!names || !state) return;
    listener.members(room);
    for (const kind of ['left', 'joined'] as const) {
      if (names[kind].length === 0) continue;
      const notice: Notice = {
        afterSeq: state.timeline.lastSeq(),
        text: presenceNotice(names[kind], kind),
        ts: Date.now(),
      };
      state.notices.push(notice);
      listener.notice(room, notice);
    }
  };
  client.on('presence', (event) => {
    const state = rooms.get(event.room);
    if (!state) return;
    if (event.state === 'joined') state.members.set(event.user.id, event.user);
    else state.members.delete(event.user.id);
    let names = presenceTurn.get(event.room);
    if (!names) {
      names = { joined: [], left: [] };
      presenceTurn.set(event.room, names);
      queueMicrotask(() => endPresenceTurn(event.room));
    }
    names[event.state].push(event.user.name);
  });
  // Someone opened a direct conversation with this user: it joins the sidebar, named after them.
  client.on('dm', (event) => {
    void session.join(event.room, event.user.name);
  });
  client.on('typing', (event) => {
    if (rooms.has(event.room)) listener.typing(event.room, client.typingIn(event.room));
  });
  client.on('retrying', (event) => {
    const message = outbox.get(event.clientMsgId);
    if (!message) return;
    message.status = 'retrying';
    message.code = event.code;
    listener.outgoing({ ...message });
  });

  listener.state({ kind: 'connecting' });

  const session: ChatSession = {
    rooms,
    user: () => client.session?.user,

    async join(room, label) {
      if (rooms.has(room)) return;
      const dm = room.startsWith(DM_ROOM_PREFIX);
      const state: RoomState = {
        room,
        label: label ?? (dm ? 'Direct conversation' : `#${room}`),
        dm,
        timeline: new Timeline(),
        members: new Map(),
        notices: [],
        unread: 0,
        mentions: 0,
        ready: false,
        complete: false,
      };
      rooms.set(room, state);
      listener.rooms();
      try {
        const result = await client.join(room);
        if (rooms.get(room) !== state) return;
        // Messages that followed the history may have been shown already: merge rather than replace.
        state.timeline.add(result.history);
        state.complete = (state.timeline.firstSeq() ?? 1) <= 1;
        state.ready = true;
        show(state, { reset: true, added: state.timeline.messages() });
        listener.rooms();
      } catch (error) {
        rooms.delete(room);
        listener.rooms();
        if (!closed)
          listener.problem(`Could not join ${state.label}: ${describeError(asChorusError(error))}`);
      }
    },

    async leave(room) {
      rooms.delete(room);
      listener.rooms();
      await client.leave(room);
    },

    async send(room, text) {
      const id = newClientMsgId();
      const message: OutgoingMessage = { id, room, text, status: 'sending' };
      outbox.set(id, message);
      listener.outgoing({ ...message });
      try {
        const sent = await client.send(room, text, { clientMsgId: id });
        const state = rooms.get(room);
        if (state) show(state, state.timeline.add([sent]));
        return undefined;
      } catch (error) {
        return closed ? undefined : asChorusError(error);
      } finally {
        outbox.delete(id);
        listener.settled(room, id);
      }
    },

    typing: (room, typing) => client.typing(room, typing),

    async older(room) {
      const state = rooms.get(room);
      if (!state || state.complete || !state.ready) return 0;
      const before = state.timeline.firstSeq();
      if (before === undefined || before <= 1) {
        state.complete = true;
        return 0;
      }
      const page = await client.history(room, { before, limit: OLDER_PAGE });
      if (rooms.get(room) !== state) return 0;
      const change = state.timeline.add(page);
      if (page.length === 0 || (state.timeline.firstSeq() ?? 1) <= 1) state.complete = true;
      show(state, change);
      return change.added.length;
    },

    async openDm(user) {
      const room = await client.openDm(user.id);
      await session.join(room, user.name);
      return room;
    },

    browse: () => client.rooms(),

    setActive(room, isVisible) {
      active = room;
      visible = isVisible;
      const state = room === undefined ? undefined : rooms.get(room);
      if (state && isVisible && (state.unread > 0 || state.mentions > 0)) {
        state.unread = 0;
        state.mentions = 0;
        listener.rooms();
      }
    },

    isOwn: (user) => ownIds.has(user.id),
    pending: () => client.pending(),

    close() {
      closed = true;
      client.close();
    },
  };
  return session;
}

function asChorusError(error: unknown): ChorusError {
  return error instanceof ChorusError ? error : new ChorusError('INTERNAL', String(error));
}
