import './zod-csp';
import { LIMITS, NameSchema, RoomSchema, TextSchema } from '@chorus/protocol';
import type { z } from 'zod';
import { type ChatSession, describeError, openChat } from './connection';
import { createView } from './view';

const DEFAULT_ROOM = 'lobby';
const NAME_KEY = 'chorus.name';

/** The parsed value, or the schema's first complaint as a sentence. */
function check<S extends z.ZodType>(schema: S, value: unknown): { value: z.output<S> } | { error: string } {
  const result = schema.safeParse(value);
  if (result.success) return { value: result.data };
  const message = result.error.issues[0]?.message ?? 'invalid value';
  return { error: `${message.charAt(0).toUpperCase()}${message.slice(1)}.` };
}

function savedName(): string {
  try {
    return localStorage.getItem(NAME_KEY) ?? '';
  } catch {
    return ''; // storage disabled
  }
}

function saveName(name: string): void {
  try {
    localStorage.setItem(NAME_KEY, name);
  } catch {
    // storage disabled: the name is simply not remembered
  }
}

function roomFromUrl(): string {
  const room = new URLSearchParams(location.search).get('room');
  return room !== null && RoomSchema.safeParse(room).success ? room : DEFAULT_ROOM;
}

function start(): void {
  const view = createView();
  const { dom } = view;
  let session: ChatSession | undefined;

  dom.name.maxLength = LIMITS.nameMax;
  dom.room.maxLength = LIMITS.roomMax;
  dom.text.maxLength = LIMITS.textMax;

  dom.joinForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const name = check(NameSchema, dom.name.value);
    if ('error' in name) return view.showJoin({ name: dom.name.value, room: dom.room.value }, name.error);
    const room = check(RoomSchema, dom.room.value.trim());
    if ('error' in room) return view.showJoin({ name: dom.name.value, room: dom.room.value }, room.error);

    saveName(name.value);
    const url = new URL(location.href);
    url.searchParams.set('room', room.value);
    history.replaceState(null, '', url);

    view.showChat(room.value);
    const isOwn = (user: Parameters<ChatSession['isOwn']>[0]) => session?.isOwn(user) ?? false;
    session = openChat(
      { name: name.value, room: room.value },
      {
        state: (state) => {
          view.setState(state);
          if (state.kind === 'disconnected') view.setCanSend(false);
        },
        ready: () => view.setCanSend(true),
        messages: (change) => view.renderMessages(change, isOwn),
        members: (members) => view.renderMembers(members, isOwn),
        outgoing: (message) => view.showOutgoing(message, name.value),
        settled: (id) => view.removeOutgoing(id),
        problem: (text) => view.showProblem(text),
      },
    );
  });

  dom.leave.addEventListener('click', () => {
    const room = session?.room ?? roomFromUrl();
    session?.close();
    session = undefined;
    view.showJoin({ name: savedName(), room });
  });

  dom.text.addEventListener('keydown', (event) => {
    // Enter sends; Shift+Enter adds a line; Enter that confirms an IME composition does neither.
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      dom.sendForm.requestSubmit();
    }
  });
  dom.text.addEventListener('input', () => view.showSendError(''));

  dom.sendForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!session || dom.text.disabled) return;
    const text = dom.text.value;
    const valid = check(TextSchema, text);
    if ('error' in valid) {
      view.showSendError(valid.error);
      return;
    }
    dom.text.value = '';
    view.showSendError('');
    const error = await session.send(text);
    if (!error) return;
    view.showSendError(describeError(error));
    // Give the text back so it can be sent again, unless something new was typed meanwhile.
    if (dom.text.value === '') dom.text.value = text;
  });

  view.showJoin({ name: savedName(), room: roomFromUrl() });
}

start();
