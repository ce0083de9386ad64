export {
  type ChorusClient,
  type ChorusClientOptions,
  type ClientEvents,
  type ConnectionState,
  createChorusClient,
  newClientMsgId,
  type SendOptions,
} from './client';
export { RoomSequence } from './room-sequence';
