import { createHash } from 'node:crypto';
import type { ChatMessage, DmOpenedEvent, PresenceEvent, TypingEvent } from '@chorus/protocol';

/** A presence change on the bus: the event, and the connection that caused it (which is not told), if any. */
export interface AnnouncedPresence {
  event: PresenceEvent;
  except?: string | undefined;
}

/** What a gateway hears from the bus, for the rooms it subscribed to. */
export interface BusListener {
  /** A message appended anywhere in the cluster; each room's messages arrive in seq order. */
  message(message: ChatMessage): void;
  /** Users joined or left a room: one change, or several of one room at once (see `PresenceAnnouncer`). */
  presence(changes: readonly AnnouncedPresence[]): void;
  /**
   * Someone is typing in a room, or stopped; `except` is the connection that said so, which is not told.
   * Optional: a listener that shows no typing (a store test, a tool) ignores these frames.
   */
  typing?(event: TypingEvent, except: string | undefined): void;
  /** A direct conversation was opened with the user whose inbox this is (see `inboxOf`). Optional, like typing. */
  direct?(inbox: string, event: DmOpenedEvent): void;
  /**
   * The bus may have missed events (its link dropped or stalled, or Redis restarted) and works again:
   * catch the subscribed rooms up from the log.
   */
  resync(): void;
}

/**
 * Room-scoped fan-out between gateways. A gateway subscribes to a room while it has a local member there and
 * hears nothing of the other rooms, so adding gateways adds capacity: a message costs work only on the gateways
 * that host one of its room's members.
 *
 * Messages are published by the message store's append (atomically with the write, so each room's messages
 * arrive in seq order); presence events by `publishPresence`. The Redis twin uses sharded pub/sub
 * (`SSUBSCRIBE`/`SPUBLISH`) on one channel per room that shares the room's hash slot; the memory twin calls
 * back synchronously.
 */
export interface RoomBus {
  /** Sets the one listener (the gateway's) and starts the bus. */
  listen(listener: BusListener): Promise<void>;
  /**
   * Starts hearing `room`; resolves once the subscription is live, so what is appended after that is heard.
   * Calls are counted by the caller: subscribe once per room, on its first local member.
   */
  subscribe(room: string): Promise<void>;
  /** Stops hearing `room` (its last local member left). */
  unsubscribe(room: string): void;
  /** Tells every gateway that hears the room, this one included, in one frame: `changes` are of one room. */
  publishPresence(changes: readonly AnnouncedPresence[]): Promise<void>;
  /** Tells every gateway that hears the room about a typing change (best effort, like presence). */
  publishTyping(event: TypingEvent, except?: string): Promise<void>;
  /**
   * Tells the gateways that hear a user's inbox (those holding a connection of the user: they `subscribe` to
   * `inboxOf(user id)` like to a room) that a direct conversation was opened with them. Best effort.
   */
  publishDirect(inbox: string, event: DmOpenedEvent): Promise<void>;
  /** False while the bus is known not to deliver (link down or stalled). */
  healthy(): boolean;
  /** Stops background work (the liveness probe). */
  close(): void;
}

/** The channel of a room's events: it carries the room's hash tag, so it lives on the shard of its keys. */
export function roomChannel(prefix: string, room: string): string {
  return `${prefix}room:{${room}}:bus`;
}

// Frames on a room channel: a message is its JSON as the append script wrote it (it starts with `{`); a
// presence event is `p` followed by JSON, several of one room `b` followed by a JSON array (a gateway that
// predates it drops the frame, as any it does not know), a typing event `t` followed by JSON, a
// direct-conversation notice (on a user's inbox channel) `d` followed by JSON.
const PRESENCE_FRAME = 'p';
const PRESENCE_BATCH_FRAME = 'b';
const TYPING_FRAME = 't';
const DIRECT_FRAME = 'd';

/**
 * A user's inbox: a bus "room" named after a hash of the user id (`~…`, which no client room name can be), so
 * notices to a user reach only the gateways holding one of their connections, on its own hash slot.
 */
export function inboxOf(userId: string): string {
  return `~${createHash('sha256').update(userId).digest('base64url').slice(0, 27)}`;
}

export function encodeDirect(inbox: string, event: DmOpenedEvent): string {
  return DIRECT_FRAME + JSON.stringify({ inbox, event });
}

export function encodePresence(changes: readonly AnnouncedPresence[]): string {
  if (changes.length !== 1) return PRESENCE_BATCH_FRAME + JSON.stringify(changes);
  const { event, except } = changes[0]!;
  return PRESENCE_FRAME + JSON.stringify(except === undefined ? { event } : { event, except });
}

export function encodeTyping(event: TypingEvent, except: string | undefined): string {
  return TYPING_FRAME + JSON.stringify(except === undefined ? { event } : { event, except });
}

/** Hands one frame of a room channel to `listener`. */
export function dispatchFrame(frame: string, listener: BusListener): void {
  if (frame.startsWith(PRESENCE_FRAME)) {
    listener.presence([JSON.parse(frame.slice(1)) as AnnouncedPresence]);
  } else if (frame.startsWith(PRESENCE_BATCH_FRAME)) {
    listener.presence(JSON.parse(frame.slice(1)) as AnnouncedPresence[]);
  } else if (frame.startsWith(DIRECT_FRAME)) {
    const { inbox, event } = JSON.parse(frame.slice(1)) as { inbox: string; event: DmOpenedEvent };
    listener.direct?.(inbox, event);
  } else if (frame.startsWith(TYPING_FRAME)) {
    const { event, except } = JSON.parse(frame.slice(1)) as { event: TypingEvent; except?: string };
    listener.typing?.(event, except);
  } else {
    listener.message(JSON.parse(frame) as ChatMessage);
  }
}
