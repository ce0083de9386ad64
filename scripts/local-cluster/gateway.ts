import { fileURLToPath } from 'node:url';
import { CONFIG_VARIABLES } from '../../apps/gateway/src/config';
import { type Exit, freePort, type LineSink, launch, type ManagedProcess, waitFor } from './process';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
const MAIN = 'apps/gateway/src/main.ts';

/** One gateway process of the local cluster, started through its real entry point. */
export interface LocalGateway {
  readonly nodeId: string;
  /** Its port: a free one picked at the first start, kept by every restart so the balancer's server line fits. */
  readonly port: number;
  readonly url: string;
  running(): boolean;
  /** Starts it (again) and resolves once it listens. */
  start(): Promise<void>;
  /** SIGTERM, the graceful drain; resolves when the process has exited. */
  stop(timeoutMs?: number): Promise<Exit>;
  /** SIGKILL, a crash. */
  kill(): Promise<Exit>;
  /** `stop()` then `start()`. */
  restart(): Promise<void>;
}

export interface LocalGatewayOptions {
  nodeId: string;
  redisUrl: string;
  /** Gateway configuration (see README "Configuration"); PORT, HOST, NODE_ID and REDIS_URL are set here. */
  env?: Record<string, string>;
  onLine?: LineSink;
  /** How long a start may take (tsx compiles on the fly; default 30 s). */
  startTimeoutMs?: number;
}

/** Creates a gateway handle; nothing runs until `start()`. */
export function createLocalGateway(options: LocalGatewayOptions): LocalGateway {
  let port = 0;
  let proc: ManagedProcess | undefined;

  const environment = (): NodeJS.ProcessEnv => {
    const base = { ...process.env };
    // Only what the caller passes configures the gateway; the script's own PORT is the balancer's.
    for (const name of CONFIG_VARIABLES) delete base[name];
    return {
      ...base,
      ...options.env,
      NODE_ID: options.nodeId,
      REDIS_URL: options.redisUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_FORMAT: 'json',
    };
  };

  const gateway: LocalGateway = {
    nodeId: options.nodeId,
    get port() {
      return port;
    },
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    running: () => proc?.running() ?? false,
    async start() {
      if (proc?.running()) return;
      // Chosen here rather than PORT=0, so readiness does not depend on LOG_LEVEL showing the listening line.
      if (port === 0) port = await freePort();
      const started = launch(options.nodeId, TSX, [MAIN], {
        cwd: REPO_ROOT,
        env: environment(),
        onLine: options.onLine,
      });
      proc = started;
      const timeoutMs = options.startTimeoutMs ?? 30_000;
      try {
        await waitFor(
          `${options.nodeId} to listen on port ${port}`,
          async () => {
            if (!started.running()) throw new Error('it exited');
            const response = await fetch(`http://127.0.0.1:${port}/healthz`);
            return response.ok && ((await response.json()) as { node?: string }).node === options.nodeId;
          },
          { timeoutMs, intervalMs: 100 },
        );
      } catch (error) {
        await started.stop('SIGKILL');
        throw new Error(`${(error as Error).message}\n${started.tail()}`);
      }
    },
    async stop(timeoutMs = 20_000) {
      if (!proc) return { code: null, signal: null };
      return proc.stop('SIGTERM', timeoutMs);
    },
    async kill() {
      if (!proc) return { code: null, signal: null };
      return proc.stop('SIGKILL');
    },
    async restart() {
      await gateway.stop();
      await gateway.start();
    },
  };
  return gateway;
}
