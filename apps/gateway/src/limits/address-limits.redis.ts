import type { RedisClient } from '../redis/connect';
import { withRedis } from '../redis/errors';
import { type AddressLimitStore, CONNECTION_COUNT_TTL_MS } from './address-limits';

// Layout: every key of an address carries the hash tag {lim:<address>}, so each script touches one slot.
//   <p>{lim:<a>}:nodes              set     gateways (incarnations) that hold connections of the address
//   <p>{lim:<a>}:conn:<node>        string  how many they hold, expiring unless re-asserted
//   <p>{lim:<a>}:<kind>:<window>    string  the budget the address used in that window, expiring after it

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

const ADD_LUA = `
local total = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return total
`;

type ScriptedRedis = RedisClient & {
  chorusLimitOpen(...args: (string | number)[]): Promise<number>;
  chorusLimitClose(...args: string[]): Promise<null>;
  chorusLimitRefresh(...args: (string | number)[]): Promise<null>;
  chorusLimitAdd(...args: (string | number)[]): Promise<number>;
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
    const entries = [...usage];
    const totals = await withRedis(() =>
      Promise.all(
        entries.map(([address, amount]) =>
          this.#redis.chorusLimitAdd(`${this.#base(address)}${kind}:${window}`, amount, windowMs * 2),
        ),
      ),
    );
    return new Map(entries.map(([address], i) => [address, Number(totals[i])]));
  }

  #base(address: string): string {
    return `${this.#prefix}{lim:${address}}:`;
  }
}
