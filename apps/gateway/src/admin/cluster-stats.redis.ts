import type { NodeReport } from '@chorus/protocol';
import type { RedisClient } from '../redis/connect';
import { withRedis } from '../redis/errors';
import { byNode, type ClusterStats, REPORT_TTL_MS } from './cluster-stats';

// Layout: every key carries the hash tag {stats}, so the script below touches one slot and stays atomic on
// Redis Cluster too. Expiry is Redis's own key TTL, so gateway clocks need not agree.
//   <p>{stats}:nodes        set     node ids that reported (pruned once their report expired)
//   <p>{stats}:node:<node>  string  the node's last report as JSON, with a TTL

// Returns the live reports and prunes the index of nodes whose report expired, in one step, so a node that
// reports meanwhile is never pruned.
const LIST_LUA = `
local out = {}
for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local report = redis.call('GET', ARGV[1] .. node)
  if report then out[#out + 1] = report else redis.call('SREM', KEYS[1], node) end
end
return out
`;

type ScriptedRedis = RedisClient & {
  chorusStatsList(...args: string[]): Promise<string[]>;
};

export interface RedisClusterStatsOptions {
  prefix: string;
  /** A report expires this long after it was made. */
  ttlMs?: number;
}

/** Cluster stats in Redis: one expiring key per gateway and an index of the gateways that reported. */
export class RedisClusterStats implements ClusterStats {
  readonly #redis: ScriptedRedis;
  readonly #base: string;
  readonly #ttlMs: number;

  constructor(redis: RedisClient, options: RedisClusterStatsOptions) {
    this.#redis = redis as ScriptedRedis;
    this.#base = `${options.prefix}{stats}:`;
    this.#ttlMs = options.ttlMs ?? REPORT_TTL_MS;
    if (!('chorusStatsList' in redis))
      redis.defineCommand('chorusStatsList', { numberOfKeys: 1, lua: LIST_LUA });
  }

  async report(report: NodeReport): Promise<void> {
    await withRedis(() =>
      this.#redis
        .multi()
        .set(this.#nodeKey(report.node), JSON.stringify(report), 'PX', this.#ttlMs)
        .sadd(this.#indexKey, report.node)
        .exec(),
    );
  }

  async remove(node: string): Promise<void> {
    await withRedis(() => this.#redis.multi().del(this.#nodeKey(node)).srem(this.#indexKey, node).exec());
  }

  async list(): Promise<NodeReport[]> {
    const reports = await withRedis(() => this.#redis.chorusStatsList(this.#indexKey, `${this.#base}node:`));
    return reports.map((json) => JSON.parse(json) as NodeReport).sort(byNode);
  }

  get #indexKey(): string {
    return `${this.#base}nodes`;
  }

  #nodeKey(node: string): string {
    return `${this.#base}node:${node}`;
  }
}
