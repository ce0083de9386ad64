import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from './config';
import { createMemoryDeps, createRedisDeps, type GatewayDeps } from './deps';
import { createGateway } from './gateway';
import { createLogger } from './logger';
import { createMetrics } from './metrics/metrics';
import { RedisStartupError } from './redis/connect';

/** Start-up problems a person can fix get one line on stderr and exit code 1, never a stack trace. */
function fail(message: string): never {
  process.stderr.write(`chorus: ${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env, { isTTY: process.stdout.isTTY === true });
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
  const logger = createLogger({ level: config.logLevel, pretty: config.logPretty, nodeId: config.nodeId });
  const metrics = createMetrics(config.nodeId);

  let deps: GatewayDeps;
  const target = config.redisUrl
    ? { url: config.redisUrl }
    : config.redisClusterNodes
      ? { clusterNodes: config.redisClusterNodes }
      : undefined;
  if (target) {
    try {
      deps = await createRedisDeps({
        target,
        prefix: config.redisPrefix,
        historyCap: config.historyCap,
        roomTtlSeconds: config.roomTtlSeconds,
        wait: config.redisWait,
        logger,
        metrics,
      });
    } catch (error) {
      if (error instanceof RedisStartupError) {
        fail(
          `${error.message}. Start Redis there, fix ${'url' in target ? 'REDIS_URL' : 'REDIS_CLUSTER_NODES'}, or unset it to run one node in memory.`,
        );
      }
      throw error;
    }
  } else {
    deps = createMemoryDeps({ historyCap: config.historyCap });
  }

  const server = createServer();
  const gateway = createGateway(server, deps, {
    nodeId: config.nodeId,
    logger,
    webRoot: fileURLToPath(new URL('../../web/dist', import.meta.url)),
    allowedOrigins: config.allowedOrigins,
    publicUrl: config.publicUrl,
    allowedHosts: config.allowedHosts,
    rateLimit: config.rateLimit,
    requestLimits: config.requestLimits,
    readinessGraceMs: config.readinessGraceMs,
    maxSendsInFlight: config.maxSendsInFlight,
    maxJoinsInFlight: config.maxJoinsInFlight,
    maxBufferedBytes: config.maxBufferedBytes,
    addressLimits: config.addressLimits,
    trustedProxies: config.trustedProxies,
    rebalance: config.rebalance,
    metrics,
    adminToken: config.adminToken,
    auth: config.auth,
    apiKey: config.apiKey,
    typingMaxRoomSize: config.typingMaxRoomSize,
  });
  if (target && config.auth.guests && !config.auth.sessionSecret) {
    logger.warn(
      'SESSION_SECRET is not set: guest tokens are signed with a secret kept in Redis; set SESSION_SECRET to choose it',
    );
  }

  server.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EADDRINUSE') fail(`port ${config.port} is already in use; set PORT to another one`);
    fail(`cannot listen on ${config.host}:${config.port} (${error.code ?? error.message})`);
  });
  server.listen(config.port, config.host, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    logger.info({ port, mode: deps.mode }, `chorus listening on http://localhost:${port}`);
  });

  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection'));

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error('shutdown deadline passed, exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    // Leave room for closing Redis after the drain; whatever is left of the deadline goes to in-flight sends.
    await gateway.close({ ...config.drain, inflightTimeoutMs: Math.max(500, config.shutdownTimeoutMs / 2) });
    await deps.close();
    logger.flush();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`chorus: failed to start: ${(error as Error).message}\n`);
  process.exit(1);
});
