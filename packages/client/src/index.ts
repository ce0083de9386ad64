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
