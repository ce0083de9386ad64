import { randomBytes } from 'node:crypto';
import type { ChatMessage } from '@chorus/protocol';
import type { Redis } from 'ioredis';
import { withRedis } from '../redis/errors';
import {
  type AppendInput,
  type AppendResult,
  DEFAULT_HISTORY_CAP,
  DEFAULT_IDEMPOTENCY_TTL_SECONDS,
  type HistoryPage,
  type MessageListener,
  type MessageStore,
} from './message-store';

// One script does the whole append so that no other append to the room can interleave: the idempotency
// check, the next seq, the write to the room's stream and the publish. Redis runs scripts one at a time,
// so every subscriber receives a room's messages in seq order. All keys of a room share the hash tag {room}.
// The stream entry id is `<seq>-0`, so history pages are plain ID ranges.
const APPEND_LUA = `
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', KEYS[1], epoch)
end
if ARGV[6] == '1' then
  local seen = redis.call('GET', KEYS[4])
  if seen then return {0, seen} end
end
local seq = redis.call('INCR', KEYS[2])
local message = cjson.decode(ARGV[2])
message['epoch'] = epoch
message['seq'] = seq
message['id'] = epoch .. ':' .. seq
local json = cjson.encode(message)
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], seq .. '-0', 'm', json)
if ARGV[6] == '1' then
  redis.call('SET', KEYS[4], json, 'EX', ARGV[4])
end
redis.call('PUBLISH', ARGV[5], json)
return {1, json}
`;

// Reads the room's epoch, creating it if the room is new, so readers and writers agree on it.
const EPOCH_LUA = `
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', KEYS[1], epoch)
end
return epoch
`;

interface ScriptedRedis extends Redis {
  chorusAppend(...args: (string | number)[]): Promise<[number, string]>;
  chorusEpoch(...args: (string | number)[]): Promise<string>;
}

type StreamEntry = [id: string, fields: string[]];

export interface RedisMessageStoreOptions {
  /** Prefix of every key and channel, e.g. `chorus:`. */
  prefix: string;
  historyCap?: number;
  idempotencyTtlSeconds?: number;
}

/** The cluster message store: one capped Redis Stream per room, appended by a script, fanned out by PUBLISH. */
export class RedisMessageStore implements MessageStore {
  readonly #redis: ScriptedRedis;
  readonly #subscriber: Redis;
  readonly #prefix: string;
  readonly #cap: number;
  readonly #ttl: number;
  readonly #channel: string;
  readonly #listeners = new Set<MessageListener>();
  #subscribed: Promise<void> | undefined;

  /**
   * @param redis commands connection.
   * @param subscriber a connection this store may put into subscriber mode; nobody else may use it.
   */
  constructor(redis: Redis, subscriber: Redis, options: RedisMessageStoreOptions) {
    this.#redis = redis as ScriptedRedis;
    this.#subscriber = subscriber;
    this.#prefix = options.prefix;
    this.#cap = options.historyCap ?? DEFAULT_HISTORY_CAP;
    this.#ttl = options.idempotencyTtlSeconds ?? DEFAULT_IDEMPOTENCY_TTL_SECONDS;
    this.#channel = `${options.prefix}messages`;
    if (!('chorusAppend' in redis)) {
      redis.defineCommand('chorusAppend', { numberOfKeys: 4, lua: APPEND_LUA });
      redis.defineCommand('chorusEpoch', { numberOfKeys: 1, lua: EPOCH_LUA });
    }
  }

  async append(input: AppendInput): Promise<AppendResult> {
    const k = this.#keys(input.room);
    const body = {
      room: input.room,
      user: { id: input.user.id, name: input.user.name },
      text: input.text,
      ts: input.ts,
      ...(input.clientMsgId !== undefined ? { clientMsgId: input.clientMsgId } : {}),
    };
    const [fresh, json] = await withRedis(() =>
      this.#redis.chorusAppend(
        k.epoch,
        k.seq,
        k.log,
        `${k.idempotency}${input.clientMsgId ?? ''}`,
        newEpoch(),
        JSON.stringify(body),
        this.#cap,
        this.#ttl,
        this.#channel,
        input.clientMsgId !== undefined ? '1' : '',
      ),
    );
    return { message: parseMessage(json), duplicate: fresh === 0 };
  }

  async latest(room: string, limit: number): Promise<HistoryPage> {
    const k = this.#keys(room);
    const [epoch, entries] = await withRedis(() =>
      Promise.all([
        this.#epoch(room),
        this.#redis.xrevrange(k.log, '+', '-', 'COUNT', limit) as Promise<StreamEntry[]>,
      ]),
    );
    return { epoch, messages: entries.map(entryMessage).reverse() };
  }

  async before(room: string, before: number, limit: number): Promise<HistoryPage> {
    const k = this.#keys(room);
    const [epoch, entries] = await withRedis(() =>
      Promise.all([
        this.#epoch(room),
        this.#redis.xrevrange(k.log, `(${before}-0`, '-', 'COUNT', limit) as Promise<StreamEntry[]>,
      ]),
    );
    return { epoch, messages: entries.map(entryMessage).reverse() };
  }

  async after(room: string, after: number, limit: number): Promise<HistoryPage & { complete: boolean }> {
    const k = this.#keys(room);
    const [epoch, entries, first, lastSeq] = await withRedis(() =>
      Promise.all([
        this.#epoch(room),
        this.#redis.xrange(k.log, `(${after}-0`, '+', 'COUNT', limit) as Promise<StreamEntry[]>,
        this.#redis.xrange(k.log, '-', '+', 'COUNT', 1) as Promise<StreamEntry[]>,
        this.#redis.get(k.seq),
      ]),
    );
    const last = Number(lastSeq ?? 0);
    const oldestKept = first[0] ? entrySeq(first[0]) : last + 1;
    return { epoch, messages: entries.map(entryMessage), complete: after + 1 >= oldestKept };
  }

  async subscribe(listener: MessageListener): Promise<() => Promise<void>> {
    this.#listeners.add(listener);
    if (!this.#subscribed) {
      this.#subscriber.on('message', (channel: string, json: string) => {
        if (channel !== this.#channel) return;
        const message = parseMessage(json);
        for (const l of this.#listeners) l(message);
      });
      this.#subscribed = withRedis(async () => {
        await this.#subscriber.subscribe(this.#channel);
      });
    }
    await this.#subscribed;
    return async () => {
      this.#listeners.delete(listener);
    };
  }

  #epoch(room: string): Promise<string> {
    return this.#redis.chorusEpoch(this.#keys(room).epoch, newEpoch());
  }

  #keys(room: string) {
    const base = `${this.#prefix}room:{${room}}:`;
    return {
      epoch: `${base}epoch`,
      seq: `${base}seq`,
      log: `${base}log`,
      idempotency: `${base}idem:`,
    };
  }
}

function newEpoch(): string {
  return randomBytes(6).toString('hex');
}

function parseMessage(json: string): ChatMessage {
  return JSON.parse(json) as ChatMessage;
}

function entrySeq(entry: StreamEntry): number {
  return Number(entry[0].slice(0, entry[0].indexOf('-')));
}

function entryMessage(entry: StreamEntry): ChatMessage {
  // Fields are [name, value, ...]; the message is the value of field `m`.
  return parseMessage(entry[1][1] ?? 'null');
}
