import './zod-csp';
import { type ChatMessage, NameSchema, RoomSchema, TextSchema, type User } from '@chorus/protocol';
import type { z } from 'zod';
import {
  type ChatSession,
  type ConnectionState,
  describeError,
  type OutgoingMessage,
  openChat,
  type RoomState,
} from './connection';
import { MessageList } from './messages-view';
import { type SavedRoom, savedName, savedRooms, saveName, saveRooms } from './saved';
import { createView } from './view';

const DEFAULT_ROOM = 'lobby';
/** Older history is fetched when the list is scrolled this close to its top. */
const LOAD_OLDER_PX = 300;
/** New messages from others are announced to screen readers at most this often, summed up. */
const ANNOUNCE_EVERY_MS = 1_500;

/** The parsed value, or the schema's first complaint as a sentence. */
function check<S extends z.ZodType>(schema: S, value: unknown): { value: z.output<S> } | { error: string } {
  const result = schema.safeParse(value);
  if (result.success) return { value: result.data };
  const message = result.error.issues[0]?.message ?? 'invalid value';
  return { error: `${message.charAt(0).toUpperCase()}${message.slice(1)}.` };
}

function roomFromUrl(): string | undefined {
  const room = new URLSearchParams(location.search).get('room');
  return room !== null && RoomSchema.safeParse(room).success ? room : undefined;
}

function start(): void {
  const view = createView();
  const { dom } = view;
  let session: ChatSession | undefined;
  let name = '';
  let active: string | undefined;
  let connection: ConnectionState = { kind: 'connecting' };
  /** What the SDK said last (the browser's offline event overrides it until the network is back). */
  let reported: ConnectionState = { kind: 'connecting' };
  let loadingOlder = false;
  let hiddenMentions = 0;
  let caughtUpTimer: ReturnType<typeof setTimeout> | undefined;
  const outgoing = new Map<string, OutgoingMessage>();
  const list = new MessageList(dom.messages, {
    get ownName() {
      return session?.user()?.name ?? name;
    },
    isOwn: (user) => session?.isOwn(user) ?? false,
  });

  const current = (): RoomState | undefined =>
    active === undefined ? undefined : session?.rooms.get(active);
  const nearBottom = () =>
    dom.messages.scrollHeight - dom.messages.scrollTop - dom.messages.clientHeight < 80;
  const toBottom = () => {
    dom.messages.scrollTop = dom.messages.scrollHeight;
  };

  function updateTitle(): void {
    const state = current();
    const badge = hiddenMentions > 0 ? `(${hiddenMentions}) ` : '';
    if (state) view.showRoom(state, badge);
    else document.title = `${badge}Chorus`;
  }

  function showState(): void {
    view.setState(connection, session?.pending() ?? 0);
  }

  function renderRooms(): void {
    if (!session) return;
    view.renderRooms(session.rooms.values(), active, select);
    saveRooms(
      [...session.rooms.values()].map(
        (r): SavedRoom => (r.dm ? { room: r.room, label: r.label } : { room: r.room }),
      ),
    );
  }

  /** Renders the active room's messages from scratch, keeping the distance to the bottom (history above). */
  function renderMessages(stick: boolean): void {
    const state = current();
    if (!state) return;
    const fromBottom = dom.messages.scrollHeight - dom.messages.scrollTop;
    const pending = [...outgoing.values()].filter((m) => m.room === state.room);
    const startText = !state.complete
      ? undefined
      : state.dm
        ? `This is the beginning of your conversation with ${state.label}.`
        : `This is the beginning of ${state.label}.`;
    list.render(state.timeline.messages(), state.notices, pending, startText);
    view.updateEmpty();
    if (stick) toBottom();
    else dom.messages.scrollTop = dom.messages.scrollHeight - fromBottom;
  }

  function renderMembers(): void {
    const state = current();
    if (!state || !session) return;
    const members = [...state.members.values()].sort((a, b) => a.name.localeCompare(b.name));
    view.renderMembers(members, session.isOwn, (user) => void openDm(user));
  }

  /** Puts `room` on screen. */
  function select(room: string): void {
    const state = session?.rooms.get(room);
    if (!session || !state) return;
    active = room;
    session.setActive(room, !document.hidden);
    const url = new URL(location.href);
    url.searchParams.set('room', room);
    history.replaceState(null, '', url);
    updateTitle();
    renderRooms();
    renderMessages(true);
    renderMembers();
    view.renderTyping([]);
    view.setCanSend(state.ready);
    view.showSendError('');
    dom.sidebar.dataset.open = 'false';
    dom.roomsToggle.setAttribute('aria-expanded', 'false');
    void loadOlderIfRoom();
  }

  async function join(room: string, label?: string): Promise<void> {
    if (!session) return;
    const already = session.rooms.has(room);
    const joining = session.join(room, label);
    select(room);
    if (!already) await joining;
  }

  async function openDm(user: User): Promise<void> {
    if (!session) return;
    try {
      const room = await session.openDm(user);
      select(room);
      dom.text.focus();
    } catch (error) {
      view.showProblem(`Could not open a conversation with ${user.name}: ${(error as Error).message}`);
    }
  }

  /** Loads older history while the list is scrolled near its top (or too short to scroll). */
  async function loadOlderIfRoom(): Promise<void> {
    const state = current();
    if (!session || !state || loadingOlder || state.complete || !state.ready) return;
    if (dom.messages.scrollTop > LOAD_OLDER_PX && dom.messages.scrollHeight > dom.messages.clientHeight)
      return;
    loadingOlder = true;
    try {
      const added = await session.older(state.room);
      if (state.room === active && (added > 0 || state.complete)) renderMessages(false);
    } catch {
      // Not connected: tried again on the next scroll.
    } finally {
      loadingOlder = false;
    }
  }

  let announceTimer: ReturnType<typeof setTimeout> | undefined;
  let toAnnounce: ChatMessage[] = [];
  function queueAnnouncement(messages: ChatMessage[]): void {
    toAnnounce.push(...messages);
    announceTimer ??= setTimeout(() => {
      announceTimer = undefined;
      const batch = toAnnounce;
      toAnnounce = [];
      const only = batch.length === 1 ? batch[0] : undefined;
      view.announce(only ? `${only.user.name}: ${only.text.slice(0, 200)}` : `${batch.length} new messages`);
    }, ANNOUNCE_EVERY_MS);
  }

  function enter(who: string, rooms: SavedRoom[], focus: string): void {
    name = who;
    view.showChat();
    session = openChat(
      { name: who },
      {
        state: (state) => {
          reported = state;
          connection = navigator.onLine ? state : { kind: 'offline' };
          clearTimeout(caughtUpTimer);
          showState();
        },
        caughtUp: () => {
          view.setState({ kind: 'caught-up' }, 0);
          clearTimeout(caughtUpTimer);
          caughtUpTimer = setTimeout(showState, 4_000);
        },
        rooms: () => {
          renderRooms();
          const state = current();
          if (state) view.setCanSend(state.ready);
        },
        messages: (room, change) => {
          if (room !== active) return;
          const stick = change.reset || nearBottom();
          if (!change.reset && list.canAppend(change.added)) {
            list.append(change.added);
            view.updateEmpty();
            if (stick) toBottom();
          } else renderMessages(stick);
          const others = change.reset ? [] : change.added.filter((m) => !session?.isOwn(m.user));
          if (others.length > 0) queueAnnouncement(others);
          if (change.reset) void loadOlderIfRoom();
        },
        members: (room) => {
          if (room === active) renderMembers();
        },
        notice: (room, notice) => {
          if (room !== active) return;
          const stick = nearBottom();
          list.notice(notice);
          if (stick) toBottom();
        },
        typing: (room, users) => {
          if (room === active) view.renderTyping(users);
        },
        outgoing: (message) => {
          outgoing.set(message.id, message);
          if (message.room === active) {
            const stick = nearBottom();
            list.outgoing(message);
            view.updateEmpty();
            if (stick) toBottom();
          }
          showState();
        },
        settled: (room, id) => {
          outgoing.delete(id);
          if (room === active) list.settled(id);
          showState();
        },
        mentioned: () => {
          if (!document.hidden) return;
          hiddenMentions += 1;
          updateTitle();
        },
        problem: (text) => view.showProblem(text),
      },
    );
    for (const saved of rooms) void session.join(saved.room, saved.label);
    select(focus);
  }

  dom.joinForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const who = check(NameSchema, dom.name.value);
    if ('error' in who) return view.showJoin({ name: dom.name.value, room: dom.room.value }, who.error);
    const room = check(RoomSchema, dom.room.value.trim());
    if ('error' in room) return view.showJoin({ name: dom.name.value, room: dom.room.value }, room.error);
    saveName(who.value);
    const rooms = savedRooms().filter((r) => r.room !== room.value);
    enter(who.value, [{ room: room.value }, ...rooms], room.value);
  });

  dom.roomForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const room = check(RoomSchema, dom.newRoom.value.trim().replace(/^#/, ''));
    if ('error' in room) return view.showRoomError(room.error);
    view.showRoomError('');
    dom.newRoom.value = '';
    void join(room.value);
    dom.text.focus();
  });

  dom.browse.addEventListener('click', async () => {
    const open = dom.browseList.hidden;
    dom.browseList.hidden = !open;
    dom.browse.setAttribute('aria-expanded', String(open));
    if (!open || !session) return;
    try {
      const rooms = await session.browse();
      view.renderBrowse(rooms, new Set(session.rooms.keys()), (room) => void join(room));
    } catch (error) {
      view.showRoomError(`Could not list the rooms: ${(error as Error).message}`);
    }
  });

  dom.leave.addEventListener('click', async () => {
    if (!session || active === undefined) return;
    const leaving = active;
    const rest = [...session.rooms.keys()].filter((room) => room !== leaving);
    await session.leave(leaving);
    if (rest[0] !== undefined) select(rest[0]);
    else {
      session.close();
      session = undefined;
      active = undefined;
      saveRooms([]);
      view.showJoin({ name: savedName(), room: leaving });
    }
  });

  const toggle = (button: HTMLButtonElement, panel: HTMLElement) => {
    const open = panel.dataset.open !== 'true';
    panel.dataset.open = String(open);
    button.setAttribute('aria-expanded', String(open));
    if (open) panel.querySelector<HTMLElement>('button, input')?.focus();
  };
  dom.roomsToggle.addEventListener('click', () => toggle(dom.roomsToggle, dom.sidebar));
  dom.membersToggle.addEventListener('click', () => toggle(dom.membersToggle, dom.members));

  dom.messages.addEventListener('scroll', () => void loadOlderIfRoom(), { passive: true });

  dom.text.addEventListener('keydown', (event) => {
    // Enter sends; Shift+Enter adds a line; Enter that confirms an IME composition does neither.
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      dom.sendForm.requestSubmit();
    }
  });
  dom.text.addEventListener('input', () => {
    view.showSendError('');
    view.updateCounter();
    if (session && active !== undefined) session.typing(active, dom.text.value.trim() !== '');
  });

  dom.sendForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const room = active;
    if (!session || room === undefined || dom.text.disabled) return;
    const text = dom.text.value;
    const valid = check(TextSchema, text);
    if ('error' in valid) {
      view.showSendError(valid.error);
      return;
    }
    dom.text.value = '';
    view.updateCounter();
    view.showSendError('');
    const error = await session.send(room, text);
    if (!error) return;
    view.showSendError(describeError(error));
    // Give the text back so it can be sent again, unless something new was typed meanwhile.
    if (dom.text.value === '' && active === room) {
      dom.text.value = text;
      view.updateCounter();
    }
  });

  // Keyboard: Alt+Up / Alt+Down move between the rooms and conversations of the sidebar.
  document.addEventListener('keydown', (event) => {
    if (!session || !event.altKey || (event.key !== 'ArrowUp' && event.key !== 'ArrowDown')) return;
    const order = [...session.rooms.values()].sort((a, b) => Number(a.dm) - Number(b.dm)).map((r) => r.room);
    if (order.length < 2 || active === undefined) return;
    event.preventDefault();
    const at = order.indexOf(active);
    const next = order[(at + (event.key === 'ArrowDown' ? 1 : order.length - 1)) % order.length];
    if (next !== undefined) select(next);
  });

  document.addEventListener('visibilitychange', () => {
    if (document.hidden) {
      session?.setActive(active, false);
      return;
    }
    hiddenMentions = 0;
    session?.setActive(active, true);
    updateTitle();
  });
  window.addEventListener('offline', () => {
    connection = { kind: 'offline' };
    showState();
  });
  window.addEventListener('online', () => {
    connection = reported;
    showState();
  });

  // A reload comes back as the same user in the same rooms (the guest token is in identity.ts).
  const fromUrl = roomFromUrl();
  const rooms = savedRooms();
  const who = savedName();
  if (who && NameSchema.safeParse(who).success && rooms.length > 0) {
    const focus = fromUrl ?? rooms[0]!.room;
    enter(who, rooms.some((r) => r.room === focus) ? rooms : [{ room: focus }, ...rooms], focus);
  } else view.showJoin({ name: who, room: fromUrl ?? DEFAULT_ROOM });
}

start();
