import type { ChatMessage, User } from '@chorus/protocol';
import type { Notice, OutgoingMessage } from './connection';
import { avatar, el, identityMarks } from './dom';
import { dayKey, dayLabel, GROUP_WINDOW_MS, tokenize } from './format';

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });

/** The message text as DOM: plain text, links that open http(s) targets safely, and highlighted mentions. */
export function messageText(text: string, ownName: string): HTMLParagraphElement {
  const p = el('p', 'text');
  for (const token of tokenize(text, ownName)) {
    if (token.kind === 'text') p.append(document.createTextNode(token.text));
    else if (token.kind === 'link') {
      const a = el('a', 'link', token.text);
      a.href = token.href;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      p.append(a);
    } else p.append(el('mark', token.me ? 'mention me' : 'mention', token.text));
  }
  return p;
}

export interface RenderContext {
  ownName: string;
  isOwn(user: User): boolean;
}

/**
 * One room's messages on screen: messages grouped by sender (the name and avatar once per run of messages
 * within a few minutes; the rest keep them for screen readers only), a separator per day, timestamps (the
 * full date on hover), join/leave notices, and this page's sends still waiting for their ack at the end.
 * Rendering is from the room's state: whole when the room changes or history is prepended, appended at the end
 * otherwise.
 */
export class MessageList {
  readonly #list: HTMLOListElement;
  readonly #ctx: RenderContext;
  /** The last message rendered, for grouping what is appended. */
  #last: ChatMessage | undefined;
  readonly #outgoing = new Map<string, HTMLLIElement>();

  constructor(list: HTMLOListElement, ctx: RenderContext) {
    this.#list = list;
    this.#ctx = ctx;
  }

  /**
   * Renders `messages` and `notices` from scratch, keeping the pending sends at the end; `start` (when the
   * room's first message is shown) is said above them.
   */
  render(
    messages: readonly ChatMessage[],
    notices: readonly Notice[],
    outgoing: readonly OutgoingMessage[],
    start: string | undefined,
  ): void {
    const items: HTMLLIElement[] = start === undefined ? [] : [el('li', 'history-start', start)];
    let previous: ChatMessage | undefined;
    let n = 0;
    const byAfter = [...notices].sort((a, b) => a.afterSeq - b.afterSeq);
    for (const message of messages) {
      while (n < byAfter.length && byAfter[n]!.afterSeq < message.seq) items.push(noticeItem(byAfter[n++]!));
      items.push(...this.#itemsFor(message, previous));
      previous = message;
    }
    while (n < byAfter.length) items.push(noticeItem(byAfter[n++]!));
    this.#last = previous;
    this.#outgoing.clear();
    for (const message of outgoing) this.#outgoing.set(message.id, this.#outgoingItem(message));
    this.#list.replaceChildren(...items, ...this.#outgoing.values());
  }

  /** Whether `messages` (in seq order) all come after what is shown, so they can be appended. */
  canAppend(messages: readonly ChatMessage[]): boolean {
    return this.#last === undefined || (messages[0]?.seq ?? 0) > this.#last.seq;
  }

  append(messages: readonly ChatMessage[]): void {
    const anchor = this.#outgoing.values().next().value ?? null;
    for (const message of messages) {
      for (const item of this.#itemsFor(message, this.#last)) this.#list.insertBefore(item, anchor);
      this.#last = message;
    }
  }

  notice(notice: Notice): void {
    this.#list.insertBefore(noticeItem(notice), this.#outgoing.values().next().value ?? null);
  }

  /** Shows a send waiting for its ack (or its new status) at the end, greyed out. */
  outgoing(message: OutgoingMessage): void {
    const li = this.#outgoingItem(message);
    const shown = this.#outgoing.get(message.id);
    this.#outgoing.set(message.id, li);
    if (shown) shown.replaceWith(li);
    else this.#list.append(li);
  }

  settled(id: string): void {
    this.#outgoing.get(id)?.remove();
    this.#outgoing.delete(id);
  }

  #itemsFor(message: ChatMessage, previous: ChatMessage | undefined): HTMLLIElement[] {
    const items: HTMLLIElement[] = [];
    const newDay = !previous || dayKey(previous.ts) !== dayKey(message.ts);
    if (newDay) {
      const separator = el('li', 'day-separator');
      separator.append(el('span', '', dayLabel(message.ts)));
      items.push(separator);
    }
    const continued =
      !newDay &&
      previous !== undefined &&
      previous.user.id === message.user.id &&
      message.ts - previous.ts < GROUP_WINDOW_MS;
    items.push(this.#messageItem(message, continued));
    return items;
  }

  #messageItem(message: ChatMessage, continued: boolean): HTMLLIElement {
    const own = this.#ctx.isOwn(message.user);
    const time = el('time', 'time', timeFormat.format(message.ts));
    time.dateTime = new Date(message.ts).toISOString();
    time.title = fullFormat.format(message.ts);
    const text = messageText(message.text, this.#ctx.ownName);
    const classes = [
      'message',
      own ? 'own' : '',
      continued ? 'continued' : '',
      mentionsMeIn(text) ? 'mentions-me' : '',
    ];
    const li = item(classes.filter(Boolean).join(' '), message.user, time, text);
    li.dataset.seq = String(message.seq);
    return li;
  }

  #outgoingItem(message: OutgoingMessage): HTMLLIElement {
    const status =
      message.status === 'sending'
        ? 'sending…'
        : message.code === 'RATE_LIMITED'
          ? 'rate limited, retrying…'
          : 'not sent yet, retrying…';
    const stamp = el('span', 'time', status);
    return item(
      'message own pending',
      this.#ctx.ownName,
      stamp,
      messageText(message.text, this.#ctx.ownName),
    );
  }
}

function mentionsMeIn(text: HTMLElement): boolean {
  return text.querySelector('mark.me') !== null;
}

function item(
  className: string,
  author: User | string,
  stamp: HTMLElement,
  text: HTMLElement,
): HTMLLIElement {
  const li = el('li', className);
  const meta = el('div', 'meta');
  const name = typeof author === 'string' ? author : author.name;
  meta.append(el('span', 'author', name));
  if (typeof author !== 'string') meta.append(...identityMarks(author));
  meta.append(stamp);
  const body = el('div', 'body');
  body.append(meta, text);
  li.append(avatar(name), body);
  return li;
}

function noticeItem(notice: Notice): HTMLLIElement {
  const li = el('li', 'notice', notice.text);
  li.title = fullFormat.format(notice.ts);
  return li;
}
