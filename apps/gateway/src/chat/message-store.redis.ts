import { type ChatMessage, ChorusError, toUser } from '@chorus/protocol';
import type { ChainableCommander } from 'ioredis';
import { roomChannel } from '../bus/room-bus';
import type { RedisClient } from '../redis/connect';
import { withRedis } from '../redis/errors';
import {
  type AppendInput,
  type AppendResult,
  DEFAULT_HISTORY_CAP,
  DEFAULT_ROOM_TTL_SECONDS,
  EpochCandidates,
  type HistoryPage,
  type MessageStore,
  messageId,
} from './message-store';

// One script does the whole append so that no other append to the room can interleave: the idempotency
// check, the next seq, the write to the room's stream and the publish on the room's bus channel (SPUBLISH:
// only gateways hosting a member of the room hear it). Redis runs scripts one at a time,
// so every subscriber receives a room's messages in seq order. All keys of a room share the hash tag {room}.
// The stream entry id is `<seq>-0`, so history pages are plain ID ranges.
// Reads the room's epoch (KEYS[1]) into `epoch`, or takes the candidate ARGV[1] when the room is new (the
// caller stores it with SET when it wrote something, so readers and writers agree).
const EPOCH_LUA = `
local epoch = redis.call('GET', KEYS[1])
local newEpoch = not epoch
if newEpoch then epoch = ARGV[1] end
`;

// All or nothing: Redis does not roll a script back, so the one command that can fail (XADD: wrong key type,
// out of memory) runs under pcall, and what was written before it (the idempotency entry) is taken back when it
// fails; the seq is stored only after it. So a failed append consumes no seq and leaves no hole. The message
// JSON is built by the gateway up to its last field (ARGV[2], an object without the closing brace); the script
// only concatenates the server-assigned fields, so nothing is decoded or re-encoded here, and a fresh append
// answers just {1, epoch, seq}: the gateway has the rest.
//
// Idempotency: KEYS[4] is a sorted set of the room's recent clientMsgIds scored by their seq (ZADD NX both
// checks and records); only entries of the last ARGV[3] (the history cap) seqs count, and older ones are trimmed
// every 64 messages, so a repeat is found with one lookup and its original read back from the stream, and the
// set never outgrows the history by more than 64. An entry whose message is gone, or is another's, does not count.
// Expiry: every key of the room gets ARGV[4] seconds of TTL on its first message and again every 64 messages,
// so a room nobody writes to any more disappears by itself.
// Redis calls on the usual path: MGET, ZADD, XADD, INCR, SPUBLISH.
const APPEND_LUA = `
local state = redis.call('MGET', KEYS[1], KEYS[2])
local epoch = state[1]
local newEpoch = not epoch
if newEpoch then epoch = ARGV[1] end
local seq = tonumber(state[2] or '0') + 1
local id = ARGV[6]
if id ~= '' and redis.call('ZADD', KEYS[4], 'NX', seq, id) == 0 then
  local seen = redis.call('ZSCORE', KEYS[4], id)
  if tonumber(seen) > seq - 1 - tonumber(ARGV[3]) then
    local entry = redis.call('XRANGE', KEYS[3], seen .. '-0', seen .. '-0')
    if entry[1] and string.find(entry[1][2][2], '"clientMsgId":"' .. id .. '"', 1, true) then
      return {0, entry[1][2][2]}
    end
  end
  redis.call('ZADD', KEYS[4], seq, id)
end
local json = ARGV[2] .. ',"epoch":"' .. epoch .. '","seq":' .. seq .. ',"id":"' .. epoch .. ':' .. seq .. '"}'
local added = redis.pcall('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], seq .. '-0', 'm', json)
if type(added) == 'table' and added.err then
  if id ~= '' then redis.call('ZREM', KEYS[4], id) end
  return added
end
redis.call('INCR', KEYS[2])
if newEpoch then redis.call('SET', KEYS[1], epoch) end
if seq % 64 == 1 then
  for i = 1, 4 do redis.call('EXPIRE', KEYS[i], ARGV[4]) end
  if seq > tonumber(ARGV[3]) then redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', seq - tonumber(ARGV[3])) end
end
if ARGV[7] == '1' then redis.call('SPUBLISH', ARGV[5], json) end
if ARGV[7] == '1' then return {1, epoch, seq} end
return {1, json}
`;

// With replicas to wait for, a message is published only once they have it (see \`append\`).
const PUBLISH_LUA = `redis.call('SPUBLISH', KEYS[1], ARGV[1])`;

// One round trip per history read: the epoch, a page of the stream (KEYS[2]) and, reading forward, whether
// nothing after ARGV[3] was trimmed yet. ARGV[2] is the direction: `latest`, `before` or `after`.
// Returns {epoch, {message JSON, ...} in stream order, complete (1/0)}.
const READ_LUA = `${EPOCH_LUA}
if newEpoch then redis.call('SET', KEYS[1], epoch, 'EX', ARGV[5]) end
local entries
local complete = 1
if ARGV[2] == 'latest' then
  entries = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', ARGV[4])
elseif ARGV[2] == 'before' then
  entries = redis.call('XREVRANGE', KEYS[2], '(' .. ARGV[3] .. '-0', '-', 'COUNT', ARGV[4])
else
  entries = redis.call('XRANGE', KEYS[2], '(' .. ARGV[3] .. '-0', '+', 'COUNT', ARGV[4])
  local first = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)
  local oldest
  if first[1] then
    oldest = tonumber(string.match(first[1][1], '^(%d+)'))
  else
    oldest = tonumber(redis.call('GET', KEYS[3]) or '0') + 1
  end
  if tonumber(ARGV[3]) + 1 < oldest then complete = 0 end
end
local messages = {}
for i, entry in ipairs(entries) do messages[i] = entry[2][2] end
return {epoch, messages, complete}
`;

type ScriptedRedis = RedisClient & {
  chorusAppend(...args: (string | number)[]): Promise<[1, string, number] | [0 | 1, string]>;
  chorusRead(...args: (string | number)[]): Promise<[string, string[], number]>;
  chorusPublish(...args: string[]): Promise<null>;
};

export interface RedisMessageStoreOptions {
  /** Prefix of every key and channel, e.g. `chorus:`. */
  prefix: string;
  historyCap?: number;
  /** Seconds a room lives after its last message (refreshed every 64 messages). */
  roomTtlSeconds?: number;
  /**
   * Replicas that must have a message before its send is acknowledged (Redis `WAIT`), so a failover loses no
   * acknowledged message; 0 (default) acknowledges once the master has it.
   */
  waitReplicas?: number;
  /** Longest `WAIT` for them; a send not confirmed in time is answered `UNAVAILABLE` and may be retried. */
  waitTimeoutMs?: number;
}

/** The cluster message store: one capped Redis Stream per room, appended by a script, fanned out by SPUBLISH. */
export class RedisMessageStore implements MessageStore {
  readonly #redis: ScriptedRedis;
  readonly #prefix: string;
  readonly #cap: number;
  readonly #ttl: number;
  readonly #epochs = new EpochCandidates();
  readonly #waitReplicas: number;
  readonly #waitTimeoutMs: number;

  /** @param redis commands connection. */
  constructor(redis: RedisClient, options: RedisMessageStoreOptions) {
    this.#redis = redis as ScriptedRedis;
    this.#prefix = options.prefix;
    this.#cap = options.historyCap ?? DEFAULT_HISTORY_CAP;
    this.#ttl = options.roomTtlSeconds ?? DEFAULT_ROOM_TTL_SECONDS;
    this.#waitReplicas = options.waitReplicas ?? 0;
    this.#waitTimeoutMs = options.waitTimeoutMs ?? 1_000;
    if (!('chorusAppend' in redis)) {
      redis.defineCommand('chorusAppend', { numberOfKeys: 4, lua: APPEND_LUA });
      redis.defineCommand('chorusRead', { numberOfKeys: 3, lua: READ_LUA });
      redis.defineCommand('chorusPublish', { numberOfKeys: 1, lua: PUBLISH_LUA });
    }
  }

  async append(input: AppendInput): Promise<AppendResult> {
    const k = this.#keys(input.room);
    const fields = {
      room: input.room,
      user: toUser(input.user),
      text: input.text,
      ts: input.ts,
      ...(input.clientMsgId !== undefined ? { clientMsgId: input.clientMsgId } : {}),
    };
    const body = JSON.stringify(fields);
    const channel = roomChannel(this.#prefix, input.room);
    const args = [
      k.epoch,
      k.seq,
      k.log,
      k.idempotency,
      this.#epochs.next(),
      body.slice(0, -1),
      this.#cap,
      this.#ttl,
      channel,
      input.clientMsgId ?? '',
    ];
    if (this.#waitReplicas === 0) {
      const reply = await withRedis(() => this.#redis.chorusAppend(...args, '1'));
      if (reply[0] === 0) return { message: parseMessage(reply[1]), duplicate: true };
      const [, epoch, seq] = reply as [1, string, number];
      return { message: { id: messageId(epoch, seq), ...fields, epoch, seq }, duplicate: false };
    }
    return this.#appendReplicated(args, channel);
  }

  // Append, then WAIT for the replicas, then publish: gateways (and so clients) hear only of messages a
  // failover cannot lose, and the sender is acknowledged only then. A retry of a send that was not confirmed
  // finds it by its clientMsgId, waits again and publishes it then; publishing twice is harmless (the gateways'
  // sequencers drop what they already delivered). Publishes of concurrent appends may arrive out of seq order,
  // which the sequencers put right. The pipeline keeps all three on the room's master.
  async #appendReplicated(args: (string | number)[], channel: string): Promise<AppendResult> {
    const pipeline = this.#redis.pipeline() as ChainableCommander & {
      chorusAppend(...args: (string | number)[]): ChainableCommander;
    };
    const results = await withRedis(() =>
      pipeline
        .chorusAppend(...args, '0')
        .wait(this.#waitReplicas, this.#waitTimeoutMs)
        .exec(),
    );
    const [appended, waited] = results ?? [];
    if (!appended || appended[0]) throw appended?.[0] ?? new Error('append got no reply');
    const [fresh, json] = appended[1] as [number, string];
    const replicas = waited && !waited[0] ? Number(waited[1]) : 0;
    if (replicas < this.#waitReplicas) {
      throw new ChorusError('UNAVAILABLE', 'the message is not confirmed by a replica yet; retry the send');
    }
    await withRedis(() => this.#redis.chorusPublish(channel, json));
    return { message: parseMessage(json), duplicate: fresh === 0 };
  }

  async latest(room: string, limit: number): Promise<HistoryPage> {
    const { epoch, messages } = await this.#read(room, 'latest', 0, limit);
    return { epoch, messages: messages.reverse() };
  }

  async before(room: string, before: number, limit: number): Promise<HistoryPage> {
    const { epoch, messages } = await this.#read(room, 'before', before, limit);
    return { epoch, messages: messages.reverse() };
  }

  after(room: string, after: number, limit: number): Promise<HistoryPage & { complete: boolean }> {
    return this.#read(room, 'after', after, limit);
  }

  async #read(room: string, direction: 'latest' | 'before' | 'after', seq: number, limit: number) {
    const k = this.#keys(room);
    const [epoch, messages, complete] = await withRedis(() =>
      this.#redis.chorusRead(k.epoch, k.log, k.seq, this.#epochs.next(), direction, seq, limit, this.#ttl),
    );
    return { epoch, messages: messages.map(parseMessage), complete: complete === 1 };
  }

  #keys(room: string) {
    const base = `${this.#prefix}room:{${room}}:`;
    return {
      epoch: `${base}epoch`,
      seq: `${base}seq`,
      log: `${base}log`,
      idempotency: `${base}idem`,
    };
  }
}

function parseMessage(json: string): ChatMessage {
  return JSON.parse(json) as ChatMessage;
}
