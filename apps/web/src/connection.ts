import { createChorusClient, newClientMsgId } from '@chorus/client';
import { ChorusError, type ErrorCode, type User } from '@chorus/protocol';
import { savedGuestToken, saveGuestToken } from './identity';
import { Timeline, type TimelineChange } from './timeline';

export type ConnectionState =
  | { kind: 'connecting' }
  | { kind: 'connected'; node: string }
  | { kind: 'reconnecting' }
  | { kind: 'disconnected' };

/** A message typed on this page that the server has not acknowledged yet. */
export interface OutgoingMessage {
  id: string;
  text: string;
  /** `retrying`: refused for a passing reason (`code`, e.g. `RATE_LIMITED`) or not answered; sent again. */
  status: 'sending' | 'retrying';
  code?: ErrorCode;
}

/** What a chat session reports to the page. */
export interface ChatListener {
  state(state: ConnectionState): void;
  /** The room is joined: sending makes sense from now on, reconnections included (sends wait in the outbox). */
  ready(): void;
  messages(change: TimelineChange): void;
  members(members: User[]): void;
  /** A send waiting for its ack, new or with a new status. */
  outgoing(message: OutgoingMessage): void;
  /** The send `id` was acknowledged (its message is among `messages`) or refused for good. */
  settled(id: string): void;
  /** A problem worth showing that is not the answer to a send. */
  problem(text: string): void;
}

export interface ChatSession {
  readonly room: string;
  /** Sends `text` through the SDK's outbox; resolves with the error when the server refused it for good. */
  send(text: string): Promise<ChorusError | undefined>;
  /** Whether `user` is this page's user (the same id across reconnections and reloads, as a guest too). */
  isOwn(user: User): boolean;
  close(): void;
}

/** `message` (CODE), plus the first schema issue when there is one. */
export function describeError(error: ChorusError): string {
  const issue = error.details?.[0];
  return `${error.message}${issue ? ` (${issue.path}: ${issue.message})` : ''} [${error.code}]`;
}

/**
 * Joins `room` on the gateway that served the page through the client SDK, which resumes the room after
 * every reconnection, retries sends and hands over each message once, in order. What is left here is the
 * page's view of the room: the messages by seq, the member list, and the sends still waiting for an ack.
 */
export function openChat(options: { name: string; room: string }, listener: ChatListener): ChatSession {
  const { room } = options;
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
  const timeline = new Timeline();
  const members = new Map<string, User>();
  const ownIds = new Set<string>();
  const outbox = new Map<string, OutgoingMessage>();
  let closed = false;

  const show = (change: TimelineChange) => {
    if (change.reset || change.added.length > 0) listener.messages(change);
  };
  const publishMembers = () =>
    listener.members([...members.values()].sort((a, b) => a.name.localeCompare(b.name)));

  client.on('state', (state) => {
    if (state === 'connected') listener.state({ kind: 'connected', node: client.session?.node ?? '?' });
    else listener.state({ kind: state === 'closed' ? 'disconnected' : state });
  });
  client.on('session', ({ user, guestToken: fresh }) => {
    ownIds.add(user.id);
    if (fresh) saveGuestToken(fresh);
  });
  client.on('message', (message) => {
    if (message.room === room) show(timeline.add([message]));
  });
  client.on('reset', (event) => {
    if (event.room === room) show(timeline.replace(event.history));
  });
  client.on('joined', (event) => {
    if (event.room !== room) return;
    members.clear();
    for (const user of event.members) members.set(user.id, user);
    publishMembers();
  });
  client.on('presence', (event) => {
    if (event.room !== room) return;
    if (event.state === 'joined') members.set(event.user.id, event.user);
    else members.delete(event.user.id);
    publishMembers();
  });
  client.on('retrying', (event) => {
    const message = outbox.get(event.clientMsgId);
    if (!message) return;
    message.status = 'retrying';
    message.code = event.code;
    listener.outgoing({ ...message });
  });

  listener.state({ kind: 'connecting' });
  client.join(room).then(
    (result) => {
      // Messages that followed the history may have been shown already: merge rather than replace.
      timeline.add(result.history);
      show({ reset: true, added: timeline.messages() });
      listener.ready();
    },
    (error: unknown) => {
      if (!closed) listener.problem(`Could not join ${room}: ${describeError(asChorusError(error))}`);
    },
  );

  return {
    room,
    async send(text) {
      const id = newClientMsgId();
      const message: OutgoingMessage = { id, text, status: 'sending' };
      outbox.set(id, message);
      listener.outgoing({ ...message });
      try {
        show(timeline.add([await client.send(room, text, { clientMsgId: id })]));
        return undefined;
      } catch (error) {
        return closed ? undefined : asChorusError(error);
      } finally {
        outbox.delete(id);
        listener.settled(id);
      }
    },
    isOwn: (user) => ownIds.has(user.id),
    close() {
      closed = true;
      client.close();
    },
  };
}

function asChorusError(error: unknown): ChorusError {
  return error instanceof ChorusError ? error : new ChorusError('INTERNAL', String(error));
}
