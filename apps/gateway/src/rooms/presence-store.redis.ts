import type { RoomSummary, User } from '@chorus/protocol';
import type { Redis } from 'ioredis';
import { withRedis } from '../redis/errors';
import { type Membership, NODE_TTL_MS, type PresenceStore, sortRooms } from './presence-store';

// Layout: every presence key carries the hash tag {presence}, so the scripts below touch one slot and stay
// atomic on Redis Cluster too. Times come from Redis (TIME), so gateway clocks need not agree.
//   <p>{presence}:nodes         zset  node -> last heartbeat (ms)
//   <p>{presence}:rooms         set   rooms that may have members
//   <p>{presence}:room:<room>   hash  "<node>|<connId>" -> user JSON
//   <p>{presence}:node:<node>   set   "<room>\n<node>|<connId>", what to drop when the node dies

const NOW_LUA = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

const JOIN_LUA = `${NOW_LUA}
redis.call('ZADD', KEYS[4], now, ARGV[4])
local added = redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
redis.call('SADD', KEYS[3], ARGV[3] .. '\\n' .. ARGV[1])
return added
`;

const LEAVE_LUA = `
local removed = redis.call('HDEL', KEYS[1], ARGV[1])
if redis.call('HLEN', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[2]) end
redis.call('SREM', KEYS[3], ARGV[2] .. '\\n' .. ARGV[1])
return removed
`;

// Defines live(field): whether the node of a "<node>|<connId>" field heartbeated within ARGV[1] ms. Each node
// is looked up once per script run in the heartbeat zset named by \`nodesKey\`.
const liveLua = (nodesKey: string) => `${NOW_LUA}
local alive = {}
local function live(field)
  local node = string.match(field, '^(.*)|')
  local ok = alive[node]
  if ok == nil then
    local seen = redis.call('ZSCORE', ${nodesKey}, node)
    ok = seen ~= false and tonumber(seen) >= now - tonumber(ARGV[1])
    alive[node] = ok
  end
  return ok
end
`;

// Returns the user JSON of every member whose node is alive.
const MEMBERS_LUA = `${liveLua('KEYS[2]')}
local fields = redis.call('HGETALL', KEYS[1])
local out = {}
for i = 1, #fields, 2 do
  if live(fields[i]) then out[#out + 1] = fields[i + 1] end
end
return out
`;

// Returns {room, distinct live users, ...} for every room in the index.
const ROOMS_LUA = `${liveLua('KEYS[1]')}
local out = {}
for _, room in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local fields = redis.call('HGETALL', ARGV[2] .. room)
  local users = {}
  local count = 0
  for i = 1, #fields, 2 do
    if live(fields[i]) and not users[fields[i + 1]] then
      users[fields[i + 1]] = true
      count = count + 1
    end
  end
  if count > 0 then
    out[#out + 1] = room
    out[#out + 1] = count
  end
end
return out
`;

// Drops every membership of the nodes named in ARGV[3..], or, when none is named, of every expired node.
const SWEEP_LUA = `${NOW_LUA}
local nodes = {}
if #ARGV >= 3 then
  for i = 3, #ARGV do nodes[#nodes + 1] = ARGV[i] end
else
  nodes = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - tonumber(ARGV[1])))
end
for _, node in ipairs(nodes) do
  local nodeKey = ARGV[2] .. 'node:' .. node
  for _, entry in ipairs(redis.call('SMEMBERS', nodeKey)) do
    local room, field = string.match(entry, '^(.-)\\n(.*)$')
    local roomKey = ARGV[2] .. 'room:' .. room
    redis.call('HDEL', roomKey, field)
    if redis.call('HLEN', roomKey) == 0 then redis.call('SREM', KEYS[2], room) end
  end
  redis.call('DEL', nodeKey)
  redis.call('ZREM', KEYS[1], node)
end
return #nodes
`;

const HEARTBEAT_LUA = `${NOW_LUA}
redis.call('ZADD', KEYS[1], now, ARGV[1])
return now
`;

interface ScriptedRedis extends Redis {
  chorusPresenceJoin(...args: string[]): Promise<number>;
  chorusPresenceLeave(...args: string[]): Promise<number>;
  chorusPresenceMembers(...args: (string | number)[]): Promise<string[]>;
  chorusPresenceRooms(...args: (string | number)[]): Promise<(string | number)[]>;
  chorusPresenceSweep(...args: (string | number)[]): Promise<number>;
  chorusPresenceHeartbeat(...args: string[]): Promise<number>;
}

export interface RedisPresenceStoreOptions {
  prefix: string;
  /** A node without a heartbeat for this long counts as dead. */
  nodeTtlMs?: number;
}

/** Cluster presence in Redis hashes, with per-node indexes so a dead gateway's members can be swept. */
export class RedisPresenceStore implements PresenceStore {
  readonly #redis: ScriptedRedis;
  readonly #base: string;
  readonly #ttl: number;

  constructor(redis: Redis, options: RedisPresenceStoreOptions) {
    this.#redis = redis as ScriptedRedis;
    this.#base = `${options.prefix}{presence}:`;
    this.#ttl = options.nodeTtlMs ?? NODE_TTL_MS;
    if (!('chorusPresenceJoin' in redis)) {
      redis.defineCommand('chorusPresenceJoin', { numberOfKeys: 4, lua: JOIN_LUA });
      redis.defineCommand('chorusPresenceLeave', { numberOfKeys: 3, lua: LEAVE_LUA });
      redis.defineCommand('chorusPresenceMembers', { numberOfKeys: 2, lua: MEMBERS_LUA });
      redis.defineCommand('chorusPresenceRooms', { numberOfKeys: 2, lua: ROOMS_LUA });
      redis.defineCommand('chorusPresenceSweep', { numberOfKeys: 2, lua: SWEEP_LUA });
      redis.defineCommand('chorusPresenceHeartbeat', { numberOfKeys: 1, lua: HEARTBEAT_LUA });
    }
  }

  async join({ room, connId, user, node }: Membership): Promise<boolean> {
    const added = await withRedis(() =>
      this.#redis.chorusPresenceJoin(
        this.#roomKey(room),
        this.#roomsKey,
        this.#nodeKey(node),
        this.#nodesKey,
        field(node, connId),
        JSON.stringify({ id: user.id, name: user.name }),
        room,
        node,
      ),
    );
    return added === 1;
  }

  async leave({ room, connId, node }: Omit<Membership, 'user'>): Promise<boolean> {
    const removed = await withRedis(() =>
      this.#redis.chorusPresenceLeave(
        this.#roomKey(room),
        this.#roomsKey,
        this.#nodeKey(node),
        field(node, connId),
        room,
      ),
    );
    return removed === 1;
  }

  async members(room: string): Promise<User[]> {
    const values = await withRedis(() =>
      this.#redis.chorusPresenceMembers(this.#roomKey(room), this.#nodesKey, this.#ttl),
    );
    const users = new Map<string, User>();
    for (const value of values) {
      const user = JSON.parse(value) as User;
      if (!users.has(user.id)) users.set(user.id, user);
    }
    return [...users.values()];
  }

  async rooms(limit: number): Promise<RoomSummary[]> {
    const flat = await withRedis(() =>
      this.#redis.chorusPresenceRooms(this.#nodesKey, this.#roomsKey, this.#ttl, `${this.#base}room:`),
    );
    const rooms: RoomSummary[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2)
      rooms.push({ room: String(flat[i]), members: Number(flat[i + 1]) });
    return sortRooms(rooms, limit);
  }

  async heartbeat(node: string): Promise<void> {
    await withRedis(() => this.#redis.chorusPresenceHeartbeat(this.#nodesKey, node));
  }

  async removeNode(node: string): Promise<void> {
    await withRedis(() =>
      this.#redis.chorusPresenceSweep(this.#nodesKey, this.#roomsKey, this.#ttl, this.#base, node),
    );
  }

  async sweep(): Promise<number> {
    return withRedis(() =>
      this.#redis.chorusPresenceSweep(this.#nodesKey, this.#roomsKey, this.#ttl, this.#base),
    );
  }

  get #nodesKey() {
    return `${this.#base}nodes`;
  }
  get #roomsKey() {
    return `${this.#base}rooms`;
  }
  #roomKey(room: string) {
    return `${this.#base}room:${room}`;
  }
  #nodeKey(node: string) {
    return `${this.#base}node:${node}`;
  }
}

function field(node: string, connId: string): string {
  return `${node}|${connId}`;
}
