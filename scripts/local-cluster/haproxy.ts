import { fileURLToPath } from 'node:url';
import { type LineSink, launch, type ManagedProcess, waitFor } from './process';

/** The production config, run as is: the environment fills in the port and the gateway addresses. */
export const HAPROXY_CONFIG = fileURLToPath(new URL('../../deploy/haproxy/haproxy.cfg', import.meta.url));
/** How many `GATEWAY_n` server slots the config has. */
export const HAPROXY_SLOTS = 8;

/** A gateway as HAProxy sees it. */
export interface BackendServer {
  /** `gw1` … `gwN`, for GATEWAY_1 … GATEWAY_N. */
  name: string;
  /** HAProxy's status: `UP`, `DOWN`, `UP 1/2` (going down), `DOWN 1/2` (coming up), `MAINT`, … */
  status: string;
  up: boolean;
  /** Connections open to it now. */
  connections: number;
}

export interface LocalHaproxy {
  readonly url: string;
  readonly port: number;
  readonly statsUrl: string;
  servers(): Promise<BackendServer[]>;
  /** Waits until `predicate` holds for the server list (e.g. every gateway is UP). */
  waitForServers(
    what: string,
    predicate: (servers: BackendServer[]) => boolean,
    timeoutMs?: number,
  ): Promise<void>;
  stop(): Promise<void>;
}

export interface HaproxyOptions {
  binary: string;
  port: number;
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  statsPort: number;
  /** Gateway addresses, host:port; the n-th becomes GATEWAY_n. */
  gateways: string[];
  onLine?: LineSink;
}

/** Starts HAProxy with deploy/haproxy/haproxy.cfg in the foreground and waits until it answers. */
export async function startHaproxy(options: HaproxyOptions): Promise<LocalHaproxy> {
  if (options.gateways.length < 1 || options.gateways.length > HAPROXY_SLOTS) {
    throw new Error(`deploy/haproxy/haproxy.cfg has slots for 1 to ${HAPROXY_SLOTS} gateways`);
  }
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LB_HOST: options.host ?? '127.0.0.1',
    LB_PORT: String(options.port),
    LB_STATS_HOST: '127.0.0.1',
    LB_STATS_PORT: String(options.statsPort),
  };
  for (const name of Object.keys(env)) if (/^GATEWAY_/.test(name)) delete env[name];
  options.gateways.forEach((address, i) => {
    env[`GATEWAY_${i + 1}`] = address;
  });
  // -db: stay in the foreground, logs on stdout/stderr.
  const proc: ManagedProcess = launch('haproxy', options.binary, ['-db', '-f', HAPROXY_CONFIG], {
    env,
    onLine: options.onLine,
  });
  const statsUrl = `http://127.0.0.1:${options.statsPort}/`;

  const servers = async (): Promise<BackendServer[]> => {
    const response = await fetch(`${statsUrl};csv`);
    if (!response.ok) throw new Error(`HAProxy stats answered ${response.status}`);
    return parseStats(await response.text());
  };
  const haproxy: LocalHaproxy = {
    url: `http://127.0.0.1:${options.port}`,
    port: options.port,
    statsUrl,
    servers,
    waitForServers: (what, predicate, timeoutMs = 15_000) =>
      waitFor(`HAProxy: ${what}`, async () => predicate(await servers()), { timeoutMs, intervalMs: 100 }),
    stop: async () => {
      await proc.stop('SIGTERM', 5_000);
    },
  };
  try {
    await waitFor('HAProxy to answer', async () => {
      if (!proc.running()) throw new Error(`haproxy exited:\n${proc.tail()}`);
      await servers();
      return true;
    });
  } catch (error) {
    await proc.stop('SIGKILL');
    throw error;
  }
  return haproxy;
}

/** The gateway servers from HAProxy's stats CSV (`# pxname,svname,…,status,…`). */
export function parseStats(csv: string): BackendServer[] {
  const [header = '', ...rows] = csv.trim().split('\n');
  const columns = header.replace(/^#\s*/, '').split(',');
  const at = (name: string) => columns.indexOf(name);
  const [px, sv, status, scur] = [at('pxname'), at('svname'), at('status'), at('scur')];
  return rows
    .map((row) => row.split(','))
    .filter((cells) => cells[px] === 'gateways' && !['FRONTEND', 'BACKEND'].includes(cells[sv] ?? ''))
    .map((cells) => {
      const state = cells[status] ?? '';
      return {
        name: cells[sv] ?? '',
        status: state,
        up: state === 'UP',
        connections: Number(cells[scur] ?? 0),
      };
    });
}
