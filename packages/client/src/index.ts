// Besides the client, the wire types and errors an application sees through it, so that it needs nothing but
// this package (the packed build bundles them; @chorus/protocol is not published).
export type {
  AckError,
  ChatMessage,
  ErrorCode,
  Position,
  PresenceEvent,
  RoomJoinResult,
  RoomSummary,
  SessionInfo,
  TypingEvent,
  User,
} from '@chorus/protocol';
export { ChorusError, LIMITS } from '@chorus/protocol';
export { createChorusClient } from './client';
export { newClientMsgId } from './outbox';
export { RoomSequence } from './room-sequence';
export type {
  ChorusClient,
  ChorusClientOptions,
  ClientEvents,
  ConnectionState,
  RawArrival,
  SendOptions,
} from './types';
