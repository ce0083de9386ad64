import { DM_ROOM_PREFIX, PRIVATE_ROOM_PREFIX, type RoomSummary, toUser, type User } from '@chorus/protocol';
import type { RedisClient } from '../redis/connect';
import { withRedis } from '../redis/errors';
import {
  type Membership,
  NODE_TTL_MS,
  type PresenceChange,
  type PresenceStore,
  type RoomMembers,
  type RoomsPage,
  type Sweep,
} from './presence-store';

// Layout: every presence key carries the hash tag {presence}, so the scripts below touch one slot and stay
// atomic on Redis Cluster too. Times come from Redis (TIME), so gateway clocks need not agree.
//   <p>{presence}:nodes         zset  node -> last heartbeat (ms)
//   <p>{presence}:rooms         set   rooms that may have members
//   <p>{presence}:index         zset  room -> minus its distinct users, so ZRANGE pages busiest first, ties by name
//   <p>{presence}:room:<room>   hash  "<node>|<connId>" -> user JSON
//   <p>{presence}:users:<room>  hash  user id -> connections of that user in the room
//   <p>{presence}:node:<node>   set   "<room>\n<node>|<connId>\n<user id>", what to drop when the node dies

const NOW_LUA = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

// Counts a connection of a user in or out of a room, and keeps the rooms index equal to the room's number of
// distinct users. Returns the user's connections left in the room.
// Private and direct-message rooms are not listed: the index (what rooms:list and the cluster page show) holds
// public rooms only.
const COUNT_LUA = `
local function count(usersKey, indexKey, roomsKey, room, uid, delta)
  local left = redis.call('HINCRBY', usersKey, uid, delta)
  if left <= 0 then redis.call('HDEL', usersKey, uid) end
  local users = redis.call('HLEN', usersKey)
  local unlisted = string.sub(room, 1, ${PRIVATE_ROOM_PREFIX.length}) == '${PRIVATE_ROOM_PREFIX}'
    or string.sub(room, 1, ${DM_ROOM_PREFIX.length}) == '${DM_ROOM_PREFIX}'
  if users == 0 then
    redis.call('SREM', roomsKey, room)
    redis.call('ZREM', indexKey, room)
  elseif not unlisted then
    redis.call('ZADD', indexKey, -users, room)
  end
  return left
end
`;

// Records a connection's membership (KEYS 1–6: room hash, rooms set, node set, heartbeats, index, users hash;
// ARGV 1–5: field, user JSON, room, node, user id); leaves \`added\` and \`first\` (the user's first connection in).
const JOIN_BODY = `
redis.call('ZADD', KEYS[4], now, ARGV[4])
local added = redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
redis.call('SADD', KEYS[3], ARGV[3] .. '\\n' .. ARGV[1] .. '\\n' .. ARGV[5])
local first = 0
if added == 1 and count(KEYS[6], KEYS[5], KEYS[2], ARGV[3], ARGV[5], 1) == 1 then first = 1 end
`;

const JOIN_LUA = `${NOW_LUA}${COUNT_LUA}${JOIN_BODY}
return {added, first}
`;

const LEAVE_LUA = `${COUNT_LUA}
local removed = redis.call('HDEL', KEYS[1], ARGV[1])
local last = 0
if removed == 1 and count(KEYS[5], KEYS[4], KEYS[2], ARGV[2], ARGV[3], -1) <= 0 then last = 1 end
redis.call('SREM', KEYS[3], ARGV[2] .. '\\n' .. ARGV[1] .. '\\n' .. ARGV[3])
return {removed, last}
`;

// Defines live(field): whether the node of a "<node>|<connId>" field heartbeated within \`ttl\` ms. Each node
// is looked up once per script run in the heartbeat zset named by \`nodesKey\`. Needs \`now\`.
const liveLua = (nodesKey: string, ttl: string) => `
local alive = {}
local function live(field)
  local node = string.match(field, '^(.*)|')
  local ok = alive[node]
  if ok == nil then
    local seen = redis.call('ZSCORE', ${nodesKey}, node)
    ok = seen ~= false and tonumber(seen) >= now - tonumber(${ttl})
    alive[node] = ok
  end
  return ok
end
`;

// Leaves \`distinct\` (the room's distinct users) and \`out\`, the user JSON of (up to \`limit\`) members whose node
// is alive: all of them in a small room, a random sample in a big one (HRANDFIELD reads only what it returns).
const membersBody = (roomKey: string, usersKey: string, limit: string) => `
local fields
if redis.call('HLEN', ${roomKey}) <= tonumber(${limit}) then
  fields = redis.call('HGETALL', ${roomKey})
else
  fields = redis.call('HRANDFIELD', ${roomKey}, ${limit}, 'WITHVALUES')
end
local out = {}
for i = 1, #fields, 2 do
  if live(fields[i]) then out[#out + 1] = fields[i + 1] end
end
local distinct = redis.call('HLEN', ${usersKey})
`;

// KEYS: room hash, heartbeats, users hash; ARGV: node TTL, limit.
const MEMBERS_LUA = `${NOW_LUA}${liveLua('KEYS[2]', 'ARGV[1]')}${membersBody('KEYS[1]', 'KEYS[3]', 'ARGV[2]')}
return {distinct, out}
`;

// A join and the member list it answers with, in one call: JOIN's keys and arguments, then ARGV 6 node TTL and
// ARGV 7 limit.
const ENTER_LUA = `${NOW_LUA}${COUNT_LUA}${JOIN_BODY}${liveLua('KEYS[4]', 'ARGV[6]')}${membersBody('KEYS[1]', 'KEYS[6]', 'ARGV[7]')}
return {added, first, distinct, out}
`;

// Drops every membership of the nodes named in ARGV[3..], or, when none is named, of every expired node.
// Returns {nodes swept, {room, user JSON, room, user JSON, …}} for each user whose last connection in a room
// went with them (at most ARGV[...] limit: the first DEPARTED_MAX).
const SWEEP_LUA = `${NOW_LUA}${COUNT_LUA}
local nodes = {}
if #ARGV >= 3 then
  for i = 3, #ARGV do nodes[#nodes + 1] = ARGV[i] end
else
  nodes = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - tonumber(ARGV[1])))
end
local departed = {}
for _, node in ipairs(nodes) do
  local nodeKey = ARGV[2] .. 'node:' .. node
  for _, entry in ipairs(redis.call('SMEMBERS', nodeKey)) do
    local room, field, uid = string.match(entry, '^(.-)\\n(.-)\\n(.*)$')
    if room then
      local roomKey = ARGV[2] .. 'room:' .. room
      local user = redis.call('HGET', roomKey, field)
      if user and redis.call('HDEL', roomKey, field) == 1 then
        local left = count(ARGV[2] .. 'users:' .. room, KEYS[3], KEYS[2], room, uid, -1)
        if left <= 0 and #departed < ${2 * 10_000} then
          departed[#departed + 1] = room
          departed[#departed + 1] = user
        end
      end
    end
  end
  redis.call('DEL', nodeKey)
  redis.call('ZREM', KEYS[1], node)
end
return {#nodes, departed}
`;

const HEARTBEAT_LUA = `${NOW_LUA}
redis.call('ZADD', KEYS[1], now, ARGV[1])
return now
`;

type ScriptedRedis = RedisClient & {
  chorusPresenceJoin(...args: string[]): Promise<[number, number]>;
  chorusPresenceLeave(...args: string[]): Promise<[number, number]>;
  chorusPresenceMembers(...args: (string | number)[]): Promise<[number, string[]]>;
  chorusPresenceEnter(...args: (string | number)[]): Promise<[number, number, number, string[]]>;
  chorusPresenceSweep(...args: (string | number)[]): Promise<[number, string[]]>;
  chorusPresenceHeartbeat(...args: string[]): Promise<number>;
};

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

  constructor(redis: RedisClient, options: RedisPresenceStoreOptions) {
    this.#redis = redis as ScriptedRedis;
    this.#base = `${options.prefix}{presence}:`;
    this.#ttl = options.nodeTtlMs ?? NODE_TTL_MS;
    if (!('chorusPresenceJoin' in redis)) {
      redis.defineCommand('chorusPresenceJoin', { numberOfKeys: 6, lua: JOIN_LUA });
      redis.defineCommand('chorusPresenceLeave', { numberOfKeys: 5, lua: LEAVE_LUA });
      redis.defineCommand('chorusPresenceMembers', { numberOfKeys: 3, lua: MEMBERS_LUA });
      redis.defineCommand('chorusPresenceEnter', { numberOfKeys: 6, lua: ENTER_LUA });
      redis.defineCommand('chorusPresenceSweep', { numberOfKeys: 3, lua: SWEEP_LUA });
      redis.defineCommand('chorusPresenceHeartbeat', { numberOfKeys: 1, lua: HEARTBEAT_LUA });
    }
  }

  async join(membership: Membership): Promise<PresenceChange> {
    const [added, first] = await withRedis(() =>
      this.#redis.chorusPresenceJoin(...this.#joinArgs(membership)),
    );
    return { connection: added === 1, user: first === 1 };
  }

  /** JOIN_LUA's keys and arguments, which ENTER_LUA starts with too. */
  #joinArgs({ room, connId, user, node }: Membership): string[] {
    return [
      this.#roomKey(room),
      this.#roomsKey,
      this.#nodeKey(node),
      this.#nodesKey,
      this.#indexKey,
      this.#usersKey(room),
      field(node, connId),
      JSON.stringify(toUser(user)),
      room,
      node,
      user.id,
    ];
  }

  async leave({ room, connId, node, user }: Membership): Promise<PresenceChange> {
    const [removed, last] = await withRedis(() =>
      this.#redis.chorusPresenceLeave(
        this.#roomKey(room),
        this.#roomsKey,
        this.#nodeKey(node),
        this.#indexKey,
        this.#usersKey(room),
        field(node, connId),
        room,
        user.id,
      ),
    );
    return { connection: removed === 1, user: last === 1 };
  }

  async enter(
    membership: Membership,
    limit: number,
  ): Promise<{ change: PresenceChange; members: RoomMembers }> {
    const [added, first, count, values] = await withRedis(() =>
      this.#redis.chorusPresenceEnter(...this.#joinArgs(membership), this.#ttl, limit),
    );
    return {
      change: { connection: added === 1, user: first === 1 },
      members: toMembers(count, values, limit),
    };
  }

  async members(room: string, limit: number): Promise<RoomMembers> {
    const [count, values] = await withRedis(() =>
      this.#redis.chorusPresenceMembers(
        this.#roomKey(room),
        this.#nodesKey,
        this.#usersKey(room),
        this.#ttl,
        limit,
      ),
    );
    return toMembers(count, values, limit);
  }

  async rooms({ offset, limit }: RoomsPage): Promise<RoomSummary[]> {
    const flat = await withRedis(() =>
      this.#redis.zrange(this.#indexKey, offset, offset + limit - 1, 'WITHSCORES'),
    );
    const rooms: RoomSummary[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2)
      rooms.push({ room: flat[i]!, members: -Number(flat[i + 1]) });
    return rooms;
  }

  async heartbeat(node: string): Promise<void> {
    await withRedis(() => this.#redis.chorusPresenceHeartbeat(this.#nodesKey, node));
  }

  async removeNode(node: string): Promise<Sweep> {
    const result = await withRedis(() =>
      this.#redis.chorusPresenceSweep(
        this.#nodesKey,
        this.#roomsKey,
        this.#indexKey,
        this.#ttl,
        this.#base,
        node,
      ),
    );
    return toSweep(result);
  }

  async sweep(): Promise<Sweep> {
    return toSweep(
      await withRedis(() =>
        this.#redis.chorusPresenceSweep(
          this.#nodesKey,
          this.#roomsKey,
          this.#indexKey,
          this.#ttl,
          this.#base,
        ),
      ),
    );
  }

  get #nodesKey() {
    return `${this.#base}nodes`;
  }
  get #indexKey() {
    return `${this.#base}index`;
  }
  get #roomsKey() {
    return `${this.#base}rooms`;
  }
  #roomKey(room: string) {
    return `${this.#base}room:${room}`;
  }
  #usersKey(room: string) {
    return `${this.#base}users:${room}`;
  }
  #nodeKey(node: string) {
    return `${this.#base}node:${node}`;
  }
}

/** Each user once (a user with connections on several gateways is listed by each), at most `limit`. */
function toMembers(count: number, values: string[], limit: number): RoomMembers {
  const users = new Map<string, User>();
  for (const value of values) {
    const user = JSON.parse(value) as User;
    if (!users.has(user.id)) users.set(user.id, toUser(user));
  }
  return { users: [...users.values()].slice(0, limit), count: Math.max(count, users.size) };
}

function toSweep([nodes, flat]: [number, string[]]): Sweep {
  const departed: Sweep['departed'] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    departed.push({ room: flat[i]!, user: toUser(JSON.parse(flat[i + 1]!) as User) });
  }
  return { nodes, departed };
}

function field(node: string, connId: string): string {
  return `${node}|${connId}`;
}
