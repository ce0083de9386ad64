import type { RedisClient } from '../redis/connect';
import { withRedis } from '../redis/errors';
import { type AddressLimitStore, CONNECTION_COUNT_TTL_MS } from './address-limits';

// Layout: every key of an address carries the hash tag {lim:<address>}, so each script touches one slot.
//   <p>{lim:<a>}:nodes              set     gateways (incarnations) that hold connections of the address
//   <p>{lim:<a>}:conn:<node>        string  how many they hold, expiring unless re-asserted
// Budgets are kept in USAGE_BUCKETS hashes per kind and window, an address (or user) in the bucket its name
// hashes to, so a flush costs one script per bucket (and per ADDS_PER_SCRIPT addresses), not one per address,
// which made it one script per message when every sender is a different user:
//   <p>{limb:<b>}:<kind>:<window>   hash    address → the budget it used in that window, expiring after it

// Counts the live holders' connections (pruning expired ones) and takes one more if under ARGV[3].
const OPEN_LUA = `
local total = 0
for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local count = redis.call('GET', ARGV[1] .. node)
  if count then total = total + tonumber(count) else redis.call('SREM', KEYS[1], node) end
end
if total >= tonumber(ARGV[3]) then return 0 end
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('SADD', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`;

const CLOSE_LUA = `
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count > 1 then redis.call('DECR', KEYS[1]) else redis.call('DEL', KEYS[1]) end
`;

const REFRESH_LUA = `
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
`;

// ARGV[1] is the TTL, then address and amount pairs; answers each address's total in the same order.
const ADD_LUA = `
local totals = {}
for i = 2, #ARGV, 2 do
  totals[#totals + 1] = redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return totals
`;

/** How many hashes (and so slots) one kind's budget is spread over in a window. */
export const USAGE_BUCKETS = 8;
/** Most addresses one script adds, so that a huge flush does not hold Redis up in one script. */
const ADDS_PER_SCRIPT = 256;

/** The bucket `name` belongs to: FNV-1a over its UTF-16 code units. */
export function usageBucket(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % USAGE_BUCKETS;
}

type ScriptedRedis = RedisClient & {
  chorusLimitOpen(...args: (string | number)[]): Promise<number>;
  chorusLimitClose(...args: string[]): Promise<null>;
  chorusLimitRefresh(...args: (string | number)[]): Promise<null>;
  chorusLimitAdd(...args: (string | number)[]): Promise<number[]>;
};

/** Per-address limits in Redis, shared by every gateway of the cluster. */
export class RedisAddressLimitStore implements AddressLimitStore {
  readonly #redis: ScriptedRedis;
  readonly #prefix: string;

  constructor(redis: RedisClient, { prefix }: { prefix: string }) {
    this.#redis = redis as ScriptedRedis;
    this.#prefix = prefix;
    if (!('chorusLimitOpen' in redis)) {
      redis.defineCommand('chorusLimitOpen', { numberOfKeys: 2, lua: OPEN_LUA });
      redis.defineCommand('chorusLimitClose', { numberOfKeys: 1, lua: CLOSE_LUA });
      redis.defineCommand('chorusLimitRefresh', { numberOfKeys: 2, lua: REFRESH_LUA });
      redis.defineCommand('chorusLimitAdd', { numberOfKeys: 1, lua: ADD_LUA });
    }
  }

  async open(address: string, node: string, max: number): Promise<boolean> {
    const base = this.#base(address);
    const opened = await withRedis(() =>
      this.#redis.chorusLimitOpen(
        `${base}nodes`,
        `${base}conn:${node}`,
        `${base}conn:`,
        node,
        max,
        CONNECTION_COUNT_TTL_MS,
      ),
    );
    return opened === 1;
  }

  async close(address: string, node: string): Promise<void> {
    await withRedis(() => this.#redis.chorusLimitClose(`${this.#base(address)}conn:${node}`));
  }

  async refresh(node: string, counts: ReadonlyMap<string, number>): Promise<void> {
    await withRedis(() =>
      Promise.all(
        [...counts].map(([address, count]) => {
          const base = this.#base(address);
          return this.#redis.chorusLimitRefresh(
            `${base}nodes`,
            `${base}conn:${node}`,
            node,
            count,
            CONNECTION_COUNT_TTL_MS,
          );
        }),
      ),
    );
  }

  async add(kind: string, window: number, windowMs: number, usage: ReadonlyMap<string, number>) {
    // One script per bucket's chunk of at most ADDS_PER_SCRIPT addresses; `open` is each bucket's last chunk.
    const chunks: { bucket: number; entries: [string, number][] }[] = [];
    const open = new Map<number, [string, number][]>();
    for (const entry of usage) {
      const bucket = usageBucket(entry[0]);
      let entries = open.get(bucket);
      if (!entries || entries.length === ADDS_PER_SCRIPT) {
        entries = [];
        open.set(bucket, entries);
        chunks.push({ bucket, entries });
      }
      entries.push(entry);
    }
    const answers = await withRedis(() =>
      Promise.all(
        chunks.map(({ bucket, entries }) =>
          this.#redis.chorusLimitAdd(
            `${this.#prefix}{limb:${bucket}}:${kind}:${window}`,
            windowMs * 2,
            ...entries.flat(),
          ),
        ),
      ),
    );
    const totals = new Map<string, number>();
    chunks.forEach(({ entries }, i) => {
      for (const [j, [address]] of entries.entries()) totals.set(address, Number(answers[i]?.[j]));
    });
    return totals;
  }

  #base(address: string): string {
    return `${this.#prefix}{lim:${address}}:`;
  }
}
