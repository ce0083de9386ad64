import { LIMITS, type RoomSummary, type User } from '@chorus/protocol';
import type { ConnectionState, RoomState } from './connection';
import { avatar, byId, el, identityMarks } from './dom';

export type View = ReturnType<typeof createView>;

/** The counter shows from this many characters on. */
const COUNTER_FROM = LIMITS.textMax - 500;

/** The page's elements and the ways the app changes them (the message list is `MessageList`'s). */
export function createView() {
  const dom = {
    joinView: byId('join-view', HTMLElement),
    joinForm: byId('join-form', HTMLFormElement),
    name: byId('name', HTMLInputElement),
    room: byId('room', HTMLInputElement),
    joinError: byId('join-error', HTMLParagraphElement),
    chatView: byId('chat-view', HTMLDivElement),
    sidebar: byId('sidebar', HTMLElement),
    roomsToggle: byId('rooms-toggle', HTMLButtonElement),
    roomsToggleCount: byId('rooms-toggle-count', HTMLSpanElement),
    roomList: byId('room-list', HTMLUListElement),
    dmList: byId('dm-list', HTMLUListElement),
    dmEmpty: byId('dm-empty', HTMLParagraphElement),
    roomForm: byId('room-form', HTMLFormElement),
    newRoom: byId('new-room', HTMLInputElement),
    roomError: byId('room-error', HTMLParagraphElement),
    browse: byId('browse', HTMLButtonElement),
    browseList: byId('browse-list', HTMLUListElement),
    roomTitle: byId('room-title', HTMLHeadingElement),
    status: byId('status', HTMLParagraphElement),
    banner: byId('banner', HTMLParagraphElement),
    leave: byId('leave', HTMLButtonElement),
    membersToggle: byId('members-toggle', HTMLButtonElement),
    members: byId('members', HTMLElement),
    problem: byId('problem', HTMLParagraphElement),
    messages: byId('messages', HTMLOListElement),
    empty: byId('empty', HTMLParagraphElement),
    typing: byId('typing', HTMLParagraphElement),
    sendForm: byId('send-form', HTMLFormElement),
    text: byId('text', HTMLTextAreaElement),
    send: byId('send', HTMLButtonElement),
    counter: byId('counter', HTMLParagraphElement),
    sendError: byId('send-error', HTMLParagraphElement),
    announcer: byId('announcer', HTMLDivElement),
    memberCount: byId('member-count', HTMLSpanElement),
    memberList: byId('member-list', HTMLUListElement),
  };

  function roomButton(state: RoomState, active: boolean, select: (room: string) => void): HTMLLIElement {
    const li = el('li', 'room-entry');
    const button = el('button', active ? 'room-button active' : 'room-button');
    button.type = 'button';
    button.dataset.room = state.room;
    if (active) button.setAttribute('aria-current', 'page');
    button.append(el('span', 'room-name', state.label));
    const unread =
      state.unread > 0
        ? `${state.unread} unread${state.mentions > 0 ? `, ${state.mentions} mentioning you` : ''}`
        : '';
    if (state.unread > 0) {
      const badge = el('span', state.mentions > 0 ? 'badge mention' : 'badge', String(state.unread));
      badge.setAttribute('aria-hidden', 'true');
      button.append(badge, el('span', 'visually-hidden', `, ${unread}`));
    }
    if (!state.ready) button.append(el('span', 'joining', 'joining…'));
    button.addEventListener('click', () => select(state.room));
    li.append(button);
    return li;
  }

  return {
    dom,

    showJoin(defaults: { name: string; room: string }, error = ''): void {
      dom.chatView.hidden = true;
      dom.roomsToggle.hidden = true;
      dom.joinView.hidden = false;
      dom.name.value = defaults.name;
      dom.room.value = defaults.room;
      dom.joinError.textContent = error;
      dom.status.dataset.state = 'idle';
      dom.status.textContent = 'Not connected';
      dom.banner.hidden = true;
      (defaults.name ? dom.room : dom.name).focus();
    },

    showChat(): void {
      dom.joinView.hidden = true;
      dom.chatView.hidden = false;
      dom.roomsToggle.hidden = false;
    },

    /** The status line (short) and, while not connected, a banner saying what happens to what is typed. */
    setState(state: ConnectionState | { kind: 'caught-up' }, pending: number): void {
      dom.status.dataset.state = state.kind === 'caught-up' ? 'connected' : state.kind;
      dom.status.textContent =
        state.kind === 'connecting'
          ? 'Connecting…'
          : state.kind === 'connected'
            ? 'Connected'
            : state.kind === 'caught-up'
              ? 'Connected, caught up'
              : state.kind === 'reconnecting'
                ? 'Reconnecting…'
                : 'Offline';
      const waiting =
        pending > 0 ? ` ${pending} unsent message${pending === 1 ? '' : 's'} will go out then.` : '';
      dom.banner.dataset.state = state.kind;
      if (state.kind === 'reconnecting') {
        dom.banner.textContent = `Connection lost. Reconnecting… what you write is kept and sent when you are back.${waiting}`;
      } else if (state.kind === 'offline') {
        dom.banner.textContent = `You are offline. Messages you write wait here until the network is back.${waiting}`;
      } else if (state.kind === 'caught-up') {
        dom.banner.textContent = 'Back online: every room is caught up.';
      }
      dom.banner.hidden = state.kind === 'connecting' || state.kind === 'connected';
    },

    setCanSend(canSend: boolean): void {
      dom.text.disabled = !canSend;
      dom.send.disabled = !canSend || dom.text.value.length > LIMITS.textMax;
      // A disabled textarea loses focus; give it back once joined unless the user moved elsewhere.
      if (canSend && (document.activeElement === null || document.activeElement === document.body)) {
        dom.text.focus();
      }
    },

    /** The room header, the composer's placeholder and the document title of the room on screen. */
    showRoom(state: RoomState, badge: string): void {
      dom.roomTitle.textContent = state.label;
      dom.text.placeholder = `Message ${state.label}`;
      document.title = `${badge}${state.label} · Chorus`;
    },

    renderRooms(
      rooms: Iterable<RoomState>,
      active: string | undefined,
      select: (room: string) => void,
    ): void {
      const list = [...rooms];
      dom.roomList.replaceChildren(
        ...list.filter((r) => !r.dm).map((r) => roomButton(r, r.room === active, select)),
      );
      dom.dmList.replaceChildren(
        ...list.filter((r) => r.dm).map((r) => roomButton(r, r.room === active, select)),
      );
      dom.dmEmpty.hidden = list.some((r) => r.dm);
      const unread = list.reduce((sum, r) => sum + (r.room === active ? 0 : r.unread), 0);
      dom.roomsToggleCount.textContent = String(unread);
      dom.roomsToggleCount.hidden = unread === 0;
    },

    renderBrowse(rooms: RoomSummary[], joined: ReadonlySet<string>, join: (room: string) => void): void {
      dom.browseList.replaceChildren(
        ...(rooms.length === 0
          ? [el('li', 'side-hint', 'Nobody is in any room right now.')]
          : rooms.map((summary) => {
              const li = el('li', 'browse-entry');
              const button = el('button', 'room-button');
              button.type = 'button';
              button.append(
                el('span', 'room-name', `#${summary.room}`),
                el('span', 'muted', `${summary.members} ${summary.members === 1 ? 'member' : 'members'}`),
              );
              if (joined.has(summary.room)) button.append(el('span', 'muted', '· joined'));
              button.addEventListener('click', () => join(summary.room));
              li.append(button);
              return li;
            })),
      );
    },

    renderMembers(members: User[], isOwn: (user: User) => boolean, message: (user: User) => void): void {
      dom.memberCount.textContent = String(members.length);
      dom.membersToggle.textContent = `Members (${members.length})`;
      dom.memberList.replaceChildren(
        ...members.map((user) => {
          const own = isOwn(user);
          const item = el('li', own ? 'member own' : 'member');
          item.append(avatar(user.name), el('span', 'name', user.name), ...identityMarks(user));
          if (own) item.append(el('span', 'you', '(you)'));
          else {
            const dm = el('button', 'button button-quiet dm-button', 'Message');
            dm.type = 'button';
            dm.setAttribute('aria-label', `Message ${user.name} directly`);
            dm.addEventListener('click', () => message(user));
            item.append(dm);
          }
          return item;
        }),
      );
    },

    renderTyping(users: User[]): void {
      const names = users.map((u) => u.name);
      dom.typing.textContent =
        names.length === 0
          ? ''
          : names.length === 1
            ? `${names[0]} is typing…`
            : names.length <= 3
              ? `${names.slice(0, -1).join(', ')} and ${names.at(-1)} are typing…`
              : 'Several people are typing…';
    },

    /** The length counter near the limit, and no sending past it (nothing is cut silently). */
    updateCounter(): void {
      const length = dom.text.value.length;
      dom.counter.hidden = length < COUNTER_FROM;
      const over = length > LIMITS.textMax;
      dom.counter.textContent = over
        ? `${length - LIMITS.textMax} characters too long (${length} / ${LIMITS.textMax})`
        : `${length} / ${LIMITS.textMax}`;
      dom.counter.classList.toggle('over', over);
      dom.send.disabled = dom.text.disabled || over;
    },

    updateEmpty(): void {
      dom.empty.hidden = dom.messages.querySelector('.message') !== null;
    },

    announce(text: string): void {
      dom.announcer.textContent = text;
    },

    showSendError(text: string): void {
      dom.sendError.textContent = text;
    },

    showRoomError(text: string): void {
      dom.roomError.textContent = text;
    },

    showProblem(text: string): void {
      dom.problem.textContent = text;
      dom.problem.hidden = text === '';
    },
  };
}
