import { randomBytes } from 'node:crypto';
import type { ChatMessage } from '@chorus/protocol';
import type { Redis } from 'ioredis';
import { withRedis } from '../redis/errors';
import {
  type AppendInput,
  type AppendResult,
  DEFAULT_HISTORY_CAP,
  DEFAULT_IDEMPOTENCY_TTL_SECONDS,
  type FeedListener,
  type HistoryPage,
  type MessageStore,
} from './message-store';

// One script does the whole append so that no other append to the room can interleave: the idempotency
// check, the next seq, the write to the room's stream and the publish. Redis runs scripts one at a time,
// so every subscriber receives a room's messages in seq order. All keys of a room share the hash tag {room}.
// The stream entry id is `<seq>-0`, so history pages are plain ID ranges.
// Reads the room's epoch (KEYS[1]) into `epoch`, or takes the candidate ARGV[1] when the room is new (the
// caller stores it with SET when it wrote something, so readers and writers agree).
const EPOCH_LUA = `
local epoch = redis.call('GET', KEYS[1])
local newEpoch = not epoch
if newEpoch then epoch = ARGV[1] end
`;

// All or nothing: Redis does not roll a script back, so nothing is written before the one command that can
// fail (XADD: wrong key type, out of memory). The seq is read, the entry written, and only then is the seq
// stored, so a failed append consumes no seq and leaves no hole. The message JSON is built by the gateway
// up to its last field (ARGV[2], an object without the closing brace); the script only concatenates the
// server-assigned fields, so nothing is decoded or re-encoded here.
const APPEND_LUA = `${EPOCH_LUA}
if ARGV[6] == '1' then
  local seen = redis.call('GET', KEYS[4])
  if seen then return {0, seen} end
end
local seq = tonumber(redis.call('GET', KEYS[2]) or '0') + 1
local json = ARGV[2] .. ',"epoch":"' .. epoch .. '","seq":' .. seq .. ',"id":"' .. epoch .. ':' .. seq .. '"}'
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], seq .. '-0', 'm', json)
redis.call('SET', KEYS[2], seq)
if newEpoch then redis.call('SET', KEYS[1], epoch) end
if ARGV[6] == '1' then
  redis.call('SET', KEYS[4], json, 'EX', ARGV[4])
end
redis.call('PUBLISH', ARGV[5], json)
return {1, json}
`;

// One round trip per history read: the epoch, a page of the stream (KEYS[2]) and, reading forward, whether
// nothing after ARGV[3] was trimmed yet. ARGV[2] is the direction: `latest`, `before` or `after`.
// Returns {epoch, {message JSON, ...} in stream order, complete (1/0)}.
const READ_LUA = `${EPOCH_LUA}
if newEpoch then redis.call('SET', KEYS[1], epoch) end
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

interface ScriptedRedis extends Redis {
  chorusAppend(...args: (string | number)[]): Promise<[number, string]>;
  chorusRead(...args: (string | number)[]): Promise<[string, string[], number]>;
}

export interface RedisMessageStoreOptions {
  /** Prefix of every key and channel, e.g. `chorus:`. */
  prefix: string;
  historyCap?: number;
  idempotencyTtlSeconds?: number;
  /** How often the feed probes itself (default 1000 ms)… */
  probeIntervalMs?: number;
  /** …and after how long without a probe it counts as stalled and is reconnected (default 5000 ms). */
  stallMs?: number;
}

/** The cluster message store: one capped Redis Stream per room, appended by a script, fanned out by PUBLISH. */
export class RedisMessageStore implements MessageStore {
  readonly #redis: ScriptedRedis;
  readonly #subscriber: Redis;
  readonly #prefix: string;
  readonly #cap: number;
  readonly #ttl: number;
  readonly #channel: string;
  readonly #epochs = new EpochCandidates();
  readonly #listeners = new Set<FeedListener>();
  readonly #probeChannel: string;
  readonly #probeIntervalMs: number;
  readonly #stallMs: number;
  #subscribed: Promise<void> | undefined;
  #probe: NodeJS.Timeout | undefined;
  #lastProbeSeen = Date.now();
  /** Set when the feed may have missed messages; cleared (with a resync) by the next probe that arrives. */
  #needsResync = false;

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
    this.#probeChannel = `${options.prefix}feed-probe:${randomBytes(6).toString('hex')}`;
    this.#probeIntervalMs = options.probeIntervalMs ?? 1_000;
    this.#stallMs = options.stallMs ?? 5_000;
    if (!('chorusAppend' in redis)) {
      redis.defineCommand('chorusAppend', { numberOfKeys: 4, lua: APPEND_LUA });
      redis.defineCommand('chorusRead', { numberOfKeys: 3, lua: READ_LUA });
    }
  }

  async append(input: AppendInput): Promise<AppendResult> {
    const k = this.#keys(input.room);
    const body = JSON.stringify({
      room: input.room,
      user: { id: input.user.id, name: input.user.name },
      text: input.text,
      ts: input.ts,
      ...(input.clientMsgId !== undefined ? { clientMsgId: input.clientMsgId } : {}),
    });
    const [fresh, json] = await withRedis(() =>
      this.#redis.chorusAppend(
        k.epoch,
        k.seq,
        k.log,
        `${k.idempotency}${input.clientMsgId ?? ''}`,
        this.#epochs.next(),
        body.slice(0, -1),
        this.#cap,
        this.#ttl,
        this.#channel,
        input.clientMsgId !== undefined ? '1' : '',
      ),
    );
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
      this.#redis.chorusRead(k.epoch, k.log, k.seq, this.#epochs.next(), direction, seq, limit),
    );
    return { epoch, messages: messages.map(parseMessage), complete: complete === 1 };
  }

  async subscribe(listener: FeedListener): Promise<() => Promise<void>> {
    this.#listeners.add(listener);
    if (!this.#subscribed) this.#subscribed = this.#startFeed();
    await this.#subscribed;
    return async () => {
      this.#listeners.delete(listener);
    };
  }

  feedHealthy(): boolean {
    return this.#subscriber.status === 'ready' && Date.now() - this.#lastProbeSeen < this.#stallMs;
  }

  close(): void {
    clearInterval(this.#probe);
  }

  // The feed proves it delivers by publishing a probe to itself every second through the commands connection.
  // A subscriber that reconnects, or that is connected but hears no probe for `stallMs`, may have missed
  // messages: it is reconnected if needed, and once a probe arrives again (so the subscription is live) every
  // listener is told to resync from the log.
  async #startFeed(): Promise<void> {
    this.#subscriber.on('message', (channel: string, payload: string) => {
      if (channel === this.#channel) {
        const message = parseMessage(payload);
        for (const l of this.#listeners) l.message(message);
      } else if (channel === this.#probeChannel) {
        this.#lastProbeSeen = Date.now();
        if (this.#needsResync) {
          this.#needsResync = false;
          for (const l of this.#listeners) l.resync();
        }
      }
    });
    let connectedOnce = false;
    this.#subscriber.on('ready', () => {
      if (connectedOnce) this.#needsResync = true;
      connectedOnce = true;
    });
    this.#subscriber.on('close', () => {
      this.#needsResync = true;
    });
    await withRedis(async () => {
      await this.#subscriber.subscribe(this.#channel, this.#probeChannel);
    });
    connectedOnce = true;
    this.#lastProbeSeen = Date.now();
    this.#probe = setInterval(() => this.#sendProbe(), this.#probeIntervalMs);
    this.#probe.unref();
  }

  #sendProbe(): void {
    if (this.#redis.status !== 'ready') return;
    this.#redis.publish(this.#probeChannel, String(Date.now())).then(
      () => {
        const silentFor = Date.now() - this.#lastProbeSeen;
        if (silentFor > this.#stallMs && this.#subscriber.status === 'ready') {
          // Commands flow but the subscription does not: drop the link so ioredis reconnects and resubscribes.
          this.#needsResync = true;
          this.#lastProbeSeen = Date.now();
          this.#subscriber.disconnect(true);
        }
      },
      () => {},
    );
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

/**
 * Epoch candidates for rooms that have none yet: unique across the cluster (a random prefix per store, then a
 * counter), without drawing random bytes on every call.
 */
class EpochCandidates {
  readonly #prefix = randomBytes(5).toString('hex');
  #counter = 0;

  next(): string {
    this.#counter += 1;
    return `${this.#prefix}${this.#counter.toString(36)}`;
  }
}

function parseMessage(json: string): ChatMessage {
  return JSON.parse(json) as ChatMessage;
}
