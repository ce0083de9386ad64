import { createLocalGateway, type LocalGateway } from './gateway';
import { HAPROXY_SLOTS, type LocalHaproxy, startHaproxy } from './haproxy';
import { type LocalNginx, startNginx } from './nginx';
import { freePort, type LineSink } from './process';
import { externalRedis, type LocalRedis, startLocalRedis } from './redis';
import { requireTools } from './tools';

export type { LocalGateway } from './gateway';
export type { BackendServer, LocalHaproxy } from './haproxy';
export type { LocalNginx } from './nginx';
export type { LocalRedis } from './redis';
export { MissingToolError } from './tools';

export interface LocalClusterOptions {
  /** How many gateways, gw-1 … gw-N (default 3, at most 8: the server slots of deploy/haproxy/haproxy.cfg). */
  gateways?: number;
  /** The balancer's port (default 0: a free one). */
  port?: number;
  /** The balancer's interface (default 127.0.0.1). */
  host?: string;
  /** Use this Redis instead of starting one; it is never stopped or flushed. */
  redisUrl?: string | undefined;
  /** Gateway configuration for every gateway, e.g. `{ DRAIN_NOTICE_MS: '2000' }`. */
  env?: Record<string, string>;
  /** Every line the processes write (gateways, redis, haproxy, nginx). */
  onLine?: LineSink;
}

/** Redis, N gateways and HAProxy on this machine, as in production but without containers. */
export interface LocalCluster {
  /** Where clients connect: HAProxy. */
  readonly url: string;
  readonly redis: LocalRedis;
  readonly gateways: readonly LocalGateway[];
  readonly haproxy: LocalHaproxy;
  /** HAProxy's server name for a gateway (`gw1` for gw-1). */
  serverName(gateway: LocalGateway): string;
  /** Waits until HAProxy routes to every gateway that is running, and to none that is not. */
  waitUntilBalanced(timeoutMs?: number): Promise<void>;
  /** Starts nginx from deploy/nginx/nginx.conf in front of the same gateways (default port: a free one). */
  startNginx(port?: number): Promise<LocalNginx>;
  /** Stops everything it started: gateways (SIGTERM, a drain), then nginx and HAProxy, then Redis. */
  stop(): Promise<void>;
}

/**
 * Starts a local cluster and resolves once HAProxy sees every gateway ready. Throws `MissingToolError`
 * (with install hints) when redis-server or haproxy is not installed. On a failed start, whatever was
 * started is stopped again.
 *
 * @example
 * const cluster = await startLocalCluster({ gateways: 3, port: 8080 });
 * console.log(`open ${cluster.url}`);
 * await cluster.stop();
 */
export async function startLocalCluster(options: LocalClusterOptions = {}): Promise<LocalCluster> {
  const count = options.gateways ?? 3;
  if (!Number.isInteger(count) || count < 1 || count > HAPROXY_SLOTS) {
    throw new Error(`the local cluster runs 1 to ${HAPROXY_SLOTS} gateways (got ${count})`);
  }
  const tools = requireTools(options.redisUrl ? ['haproxy'] : ['haproxy', 'redis-server']);

  let redis: LocalRedis | undefined;
  let gateways: LocalGateway[] = [];
  let haproxy: LocalHaproxy | undefined;
  const nginxes: LocalNginx[] = [];
  // Gateways first, so they drain while the balancer still forwards their clients' reconnects; Redis last.
  const stopAll = async () => {
    await Promise.all(gateways.map((g) => g.stop().catch(() => {})));
    await Promise.all(nginxes.map((n) => n.stop().catch(() => {})));
    await haproxy?.stop().catch(() => {});
    await redis?.stop().catch(() => {});
  };
  try {
    redis = options.redisUrl
      ? externalRedis(options.redisUrl)
      : await startLocalRedis(tools['redis-server'], options.onLine);
    const redisUrl = redis.url;
    gateways = Array.from({ length: count }, (_, i) =>
      createLocalGateway({ nodeId: `gw-${i + 1}`, redisUrl, env: options.env, onLine: options.onLine }),
    );
    await Promise.all(gateways.map((g) => g.start()));
    const lb = await startHaproxy({
      binary: tools.haproxy,
      port: options.port || (await freePort()),
      host: options.host,
      statsPort: await freePort(),
      gateways: gateways.map((g) => `127.0.0.1:${g.port}`),
      onLine: options.onLine,
    });
    haproxy = lb;

    const serverName = (gateway: LocalGateway) => `gw${gateways.indexOf(gateway) + 1}`;
    const waitUntilBalanced = (timeoutMs = 15_000) =>
      lb.waitForServers(
        'every running gateway UP, every stopped one DOWN',
        (servers) =>
          gateways.every((g) => {
            const server = servers.find((s) => s.name === serverName(g));
            return server !== undefined && server.up === g.running();
          }),
        timeoutMs,
      );
    await waitUntilBalanced();

    let stopping: Promise<void> | undefined;
    return {
      url: lb.url,
      redis,
      gateways,
      haproxy: lb,
      serverName,
      waitUntilBalanced,
      async startNginx(port) {
        const { nginx } = requireTools(['nginx']);
        const started = await startNginx({
          binary: nginx,
          port: port || (await freePort()),
          gateways: gateways.map((g) => `127.0.0.1:${g.port}`),
          onLine: options.onLine,
        });
        nginxes.push(started);
        return started;
      },
      stop() {
        stopping ??= stopAll();
        return stopping;
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
