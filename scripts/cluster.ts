/**
 * `npm run cluster`: a real local cluster without containers. Redis (or REDIS_URL), GATEWAYS gateways
 * (default 3) and HAProxy, configured by deploy/haproxy/haproxy.cfg, listening on PORT (default 8080).
 * Ctrl-C or SIGTERM stops everything it started: the gateways drain first, then HAProxy, then Redis.
 *
 * Every other gateway setting (LOG_LEVEL, RATE_LIMIT_PER_SECOND, …) is passed on to the gateways.
 */
import { CONFIG_VARIABLES } from '../apps/gateway/src/config';
import { type LocalCluster, MissingToolError, startLocalCluster } from './local-cluster/cluster';
import { type Supervisor, superviseGateways } from './local-cluster/supervisor';

const OWN = new Set(['PORT', 'HOST', 'NODE_ID', 'REDIS_URL', 'LOG_FORMAT']);

function fail(message: string): never {
  process.stderr.write(`cluster: ${message}\n`);
  process.exit(1);
}

function integer(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    fail(`invalid ${name}: must be an integer from ${min} to ${max} (got ${JSON.stringify(raw)})`);
  }
  return value;
}

const LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};
const QUIET_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'node', 'msg']);

/** A gateway's JSON log line as one readable line: level, message, then the other fields. */
function formatLine(source: string, line: string): string {
  const prefix = `[${source}]`.padEnd(10);
  if (!line.startsWith('{')) return `${prefix} ${line}`;
  try {
    const entry = JSON.parse(line) as Record<string, unknown>;
    const level = LEVELS[Number(entry.level)] ?? String(entry.level);
    const fields = Object.entries(entry)
      .filter(([key]) => !QUIET_FIELDS.has(key))
      .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
    return [prefix, level.padEnd(5), String(entry.msg ?? ''), ...fields].join(' ');
  } catch {
    return `${prefix} ${line}`;
  }
}

async function main(): Promise<void> {
  const port = integer('PORT', 8080, 0, 65535);
  const gateways = integer('GATEWAYS', 3, 1, 8);
  const env = Object.fromEntries(
    CONFIG_VARIABLES.filter((name) => !OWN.has(name) && process.env[name]).map((name) => [
      name,
      process.env[name] as string,
    ]),
  );

  let starting: Promise<LocalCluster> | undefined;
  let supervisor: Supervisor | undefined;
  let stopping = false;
  let stoppedAt = 0;
  const stop = async (signal: string) => {
    if (stopping) {
      // A Ctrl-C reaches this script twice (from the terminal and forwarded by npm): only later ones count.
      if (Date.now() - stoppedAt > 1_000) process.stderr.write('cluster: stopping already; wait for it\n');
      return;
    }
    stopping = true;
    stoppedAt = Date.now();
    process.stdout.write(`\ncluster: ${signal}: stopping gateways, then HAProxy, then Redis\n`);
    // A Ctrl-C during start-up waits for the start, then stops what it started.
    supervisor?.stop();
    const cluster = await starting?.catch(() => undefined);
    await cluster?.stop();
    process.stdout.write('cluster: stopped\n');
    process.exit(0);
  };
  // Handlers first: a Ctrl-C during start-up still stops what was started.
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  let cluster: LocalCluster;
  try {
    starting = startLocalCluster({
      gateways,
      port,
      host: process.env.HOST || '0.0.0.0',
      redisUrl: process.env.REDIS_URL || undefined,
      env,
      onLine: (source, line) => {
        // Redis's start-up banner is noise here; if it fails, the error carries its last lines.
        if (source === 'redis' || (stopping && !source.startsWith('gw-'))) return;
        process.stdout.write(`${formatLine(source, line)}\n`);
      },
    });
    cluster = await starting;
  } catch (error) {
    if (stopping) return;
    if (error instanceof MissingToolError) fail(`${error.message}\nThen run npm run cluster again.`);
    fail(`could not start: ${(error as Error).message}`);
  }
  if (stopping) return;
  supervisor = superviseGateways(cluster.gateways, (message) =>
    process.stdout.write(`cluster: ${message}\n`),
  );
  const lbPort = new URL(cluster.url).port;
  process.stdout.write(
    [
      '',
      `Chorus is running on http://127.0.0.1:${lbPort}  (HAProxy, deploy/haproxy/haproxy.cfg)`,
      `  gateways  ${cluster.gateways.map((g) => `${g.nodeId} ${g.url}`).join(', ')}`,
      `  redis     ${cluster.redis.url}${cluster.redis.owned ? ' (append-only, temporary)' : ' (REDIS_URL)'}`,
      `  haproxy   stats ${cluster.haproxy.statsUrl}`,
      'A gateway that dies is restarted. Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
}

void main();
