import type { ChatMessage, User } from '@chorus/protocol';
import type { ConnectionState, OutgoingMessage } from './connection';
import { userTag } from './identity';
import type { TimelineChange } from './timeline';

// Every piece of user text reaches the page through textContent: names and messages are never parsed as HTML.

function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`#${id} is missing from index.html`);
  return element;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

/** What tells users apart beyond their name: a tag of their id, and a mark on guests (not signed in). */
function identityMarks(user: User): HTMLElement[] {
  const tag = el('span', 'user-tag', userTag(user));
  tag.title = user.guest ? 'guest (not signed in)' : 'signed-in user';
  return user.guest ? [el('span', 'guest-badge', 'guest'), tag] : [tag];
}

/** One of eight avatar colours, stable per name. */
function hueClass(name: string): string {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + (char.codePointAt(0) ?? 0)) >>> 0;
  return `hue-${hash % 8}`;
}

function avatar(name: string): HTMLSpanElement {
  const badge = el('span', `avatar ${hueClass(name)}`, [...name][0]?.toUpperCase() ?? '?');
  badge.setAttribute('aria-hidden', 'true');
  return badge;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

export type View = ReturnType<typeof createView>;

/** The page's elements and the few ways the app changes them. */
export function createView() {
  const dom = {
    joinView: byId('join-view', HTMLElement),
    joinForm: byId('join-form', HTMLFormElement),
    name: byId('name', HTMLInputElement),
    room: byId('room', HTMLInputElement),
    joinError: byId('join-error', HTMLParagraphElement),
    chatView: byId('chat-view', HTMLElement),
    roomTitle: byId('room-title', HTMLSpanElement),
    status: byId('status', HTMLParagraphElement),
    leave: byId('leave', HTMLButtonElement),
    problem: byId('problem', HTMLParagraphElement),
    messages: byId('messages', HTMLOListElement),
    empty: byId('empty', HTMLParagraphElement),
    sendForm: byId('send-form', HTMLFormElement),
    text: byId('text', HTMLTextAreaElement),
    send: byId('send', HTMLButtonElement),
    sendError: byId('send-error', HTMLParagraphElement),
    memberCount: byId('member-count', HTMLSpanElement),
    memberList: byId('member-list', HTMLUListElement),
  };

  /** Sends waiting for their ack, by id; shown greyed out after the messages. */
  const outgoing = new Map<string, HTMLLIElement>();

  function item(className: string, author: User | string, stamp: HTMLElement, text: string): HTMLLIElement {
    const li = el('li', className);
    const meta = el('div', 'meta');
    const name = typeof author === 'string' ? author : author.name;
    meta.append(el('span', 'author', name));
    if (typeof author !== 'string') meta.append(...identityMarks(author));
    meta.append(stamp);
    const body = el('div', 'body');
    body.append(meta, el('p', 'text', text));
    li.append(avatar(name), body);
    return li;
  }

  function messageItem(message: ChatMessage, own: boolean): HTMLLIElement {
    const time = el('time', 'time', timeFormat.format(message.ts));
    time.dateTime = new Date(message.ts).toISOString();
    const li = item(own ? 'message own' : 'message', message.user, time, message.text);
    li.dataset.seq = String(message.seq);
    return li;
  }

  function outgoingStatus(message: OutgoingMessage): string {
    if (message.status === 'sending') return 'sending…';
    return message.code === 'RATE_LIMITED' ? 'rate limited, retrying…' : 'retrying…';
  }

  /** Inserts in seq order, before the pending sends; live messages nearly always go last, so search from the end. */
  function insertMessage(li: HTMLLIElement, seq: number): void {
    let after = dom.messages.lastElementChild as HTMLElement | null;
    while (after && (after.dataset.seq === undefined || Number(after.dataset.seq) > seq))
      after = after.previousElementSibling as HTMLElement | null;
    if (after) after.after(li);
    else dom.messages.prepend(li);
  }

  function updateEmpty(): void {
    dom.empty.hidden = dom.messages.childElementCount > 0;
  }

  function nearBottom(): boolean {
    const list = dom.messages;
    return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  }

  return {
    dom,

    showJoin(defaults: { name: string; room: string }, error = ''): void {
      dom.chatView.hidden = true;
      dom.leave.hidden = true;
      dom.roomTitle.hidden = true;
      dom.joinView.hidden = false;
      dom.name.value = defaults.name;
      dom.room.value = defaults.room;
      dom.joinError.textContent = error;
      dom.status.dataset.state = 'idle';
      dom.status.textContent = 'Not connected';
      (defaults.name ? dom.room : dom.name).focus();
    },

    showChat(room: string): void {
      dom.joinView.hidden = true;
      dom.chatView.hidden = false;
      dom.leave.hidden = false;
      dom.roomTitle.hidden = false;
      dom.roomTitle.textContent = `# ${room}`;
      document.title = `${room} · Chorus`;
      dom.text.placeholder = `Message #${room}`;
      dom.messages.replaceChildren();
      outgoing.clear();
      dom.memberList.replaceChildren();
      dom.memberCount.textContent = '';
      dom.empty.hidden = false;
      this.showProblem('');
      this.showSendError('');
      dom.text.focus();
    },

    setState(state: ConnectionState): void {
      dom.status.dataset.state = state.kind;
      dom.status.textContent =
        state.kind === 'connecting'
          ? 'Connecting…'
          : state.kind === 'connected'
            ? `Connected to node ${state.node}`
            : state.kind === 'reconnecting'
              ? 'Reconnecting…'
              : 'Disconnected';
    },

    setCanSend(canSend: boolean): void {
      dom.text.disabled = !canSend;
      dom.send.disabled = !canSend;
      // A disabled textarea loses focus; give it back once joined unless the user moved elsewhere.
      if (canSend && (document.activeElement === null || document.activeElement === document.body)) {
        dom.text.focus();
      }
    },

    renderMessages(change: TimelineChange, isOwn: (user: User) => boolean): void {
      const stick = change.reset || nearBottom();
      if (change.reset) {
        const items = change.added.map((m) => messageItem(m, isOwn(m.user)));
        dom.messages.replaceChildren(...items, ...outgoing.values());
      } else {
        for (const m of change.added) insertMessage(messageItem(m, isOwn(m.user)), m.seq);
      }
      updateEmpty();
      if (stick) dom.messages.scrollTop = dom.messages.scrollHeight;
    },

    /** Shows a send waiting for its ack (or its new status) as the last item, greyed out. */
    showOutgoing(message: OutgoingMessage, author: string): void {
      const stamp = el('span', 'time', outgoingStatus(message));
      const li = item('message own pending', author, stamp, message.text);
      const shown = outgoing.get(message.id);
      outgoing.set(message.id, li);
      if (shown) {
        shown.replaceWith(li);
        return;
      }
      const stick = nearBottom();
      dom.messages.append(li);
      updateEmpty();
      if (stick) dom.messages.scrollTop = dom.messages.scrollHeight;
    },

    removeOutgoing(id: string): void {
      outgoing.get(id)?.remove();
      outgoing.delete(id);
      updateEmpty();
    },

    renderMembers(members: User[], isOwn: (user: User) => boolean): void {
      dom.memberCount.textContent = String(members.length);
      dom.memberList.replaceChildren(
        ...members.map((user) => {
          const own = isOwn(user);
          const item = el('li', own ? 'member own' : 'member');
          item.append(avatar(user.name), el('span', 'name', user.name), ...identityMarks(user));
          if (own) item.append(el('span', 'you', '(you)'));
          return item;
        }),
      );
    },

    showSendError(text: string): void {
      dom.sendError.textContent = text;
    },

    showProblem(text: string): void {
      dom.problem.textContent = text;
      dom.problem.hidden = text === '';
    },
  };
}
