import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import * as z from 'zod';
import { DEFAULT_MAX_SENDS_IN_FLIGHT } from './chat/chat.service';
import { DEFAULT_TRUSTED_PROXIES } from './http/client-address';
import { DEFAULT_ADDRESS_LIMITS } from './limits/address-limiter';
import { DEFAULT_REQUEST_LIMITS } from './limits/request-budget';
import { DEFAULT_MAX_BUFFERED_BYTES } from './limits/slow-consumers';
import { DEFAULT_MAX_JOINS_IN_FLIGHT } from './rooms/rooms.service';
import { DEFAULT_TYPING_MAX_ROOM_SIZE } from './typing/typing.service';

/** Everything the gateway reads from its environment, parsed once at start. See README "Configuration". */
export interface Config {
  /** `PORT` (default 3000): HTTP port; 0 picks a free one. */
  port: number;
  /** `HOST` (default 0.0.0.0): interface to listen on. */
  host: string;
  /** `REDIS_URL` (default unset): with it, the cluster mode; without, the embedded single-node mode. */
  redisUrl: string | undefined;
  /**
   * `REDIS_CLUSTER_NODES` (default unset): `host:port,host:port,…`, seed nodes of a Redis Cluster to run on
   * instead of one Redis. Set this or `REDIS_URL`, not both.
   */
  redisClusterNodes: readonly string[] | undefined;
  /**
   * `REDIS_WAIT_REPLICAS` (default 0): replicas that must hold a message before its sender is acknowledged
   * (Redis `WAIT`), so a failover loses no acknowledged message; `REDIS_WAIT_TIMEOUT_MS` (default 1000) is the
   * longest wait, after which the send is answered `UNAVAILABLE` and retried by the client.
   */
  redisWait: { replicas: number; timeoutMs: number };
  /** `REDIS_PREFIX` (default `chorus:`): prefix of every Redis key and channel. */
  redisPrefix: string;
  /** `NODE_ID` (default `<hostname>-<random>`): this gateway's id in logs, `session.node` and presence. */
  nodeId: string;
  /** `LOG_LEVEL` (default info). */
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** `LOG_FORMAT` (default auto: pretty on a terminal, JSON otherwise). */
  logPretty: boolean;
  /** `ALLOWED_ORIGINS` (default unset: same host only): comma-separated browser origins allowed to connect. */
  allowedOrigins: readonly string[] | undefined;
  /**
   * `PUBLIC_URL` (default unset): where users reach the cluster, e.g. `https://chat.example.com`. Its host is
   * served (besides localhost names and IP addresses) and its scheme is expected of browser origins.
   */
  publicUrl: string | undefined;
  /** `ALLOWED_HOSTS` (default unset): more `Host` names to serve, comma-separated; `*.example.com`, or `*` for any. */
  allowedHosts: readonly string[] | undefined;
  /** `HISTORY_CAP` (default 10000): messages kept per room. */
  historyCap: number;
  /** `ROOM_TTL_SECONDS` (default 2592000, 30 days): a room nobody wrote to for this long is deleted. */
  roomTtlSeconds: number;
  /** `RATE_LIMIT_PER_SECOND` (default 10) and `RATE_LIMIT_BURST` (default 20): sends per connection. */
  rateLimit: { perSecond: number; burst: number };
  /**
   * Every request of a Socket.IO connection: `REQUEST_RATE_PER_SECOND` (default 20) and `REQUEST_RATE_BURST`
   * (default 150), and `MAX_REQUESTS_IN_FLIGHT` (default 128) not yet answered.
   */
  requestLimits: { perSecond: number; burst: number; maxInflight: number };
  /**
   * Spreading connections back after a gateway restarts or joins: every `REBALANCE_INTERVAL_MS` (default 5000;
   * 0 turns it off) a gateway more than `REBALANCE_TOLERANCE_PERCENT` (default 20) above the cluster average
   * moves up to `REBALANCE_PER_SECOND` (default 5) connections a second off to the others.
   */
  rebalance: { intervalMs: number; perSecond: number; tolerance: number } | false;
  /**
   * Limits per client address, across the cluster: `MAX_CONNECTIONS_PER_ADDRESS` (default 1000) open connections;
   * `ADDRESS_SEND_RATE` / `ADDRESS_SEND_BURST` (default 100/s, 200) sends; `ADDRESS_NEW_ROOM_RATE` /
   * `ADDRESS_NEW_ROOM_BURST` (default 2/s, 120) rooms brought into being.
   */
  addressLimits: {
    maxConnections: number;
    sends: { perSecond: number; burst: number };
    newRooms: { perSecond: number; burst: number };
  };
  /**
   * `TRUSTED_PROXIES` (default `loopback,private`): peers whose `X-Forwarded-For` names the client: addresses,
   * CIDR ranges, `loopback`, `private`; `none` trusts no one.
   */
  trustedProxies: readonly string[];
  /** `MAX_BUFFERED_BYTES` (default 4194304, 4 MiB): unsent output a connection may have before it is closed. */
  maxBufferedBytes: number;
  /** `MAX_SENDS_IN_FLIGHT` (default 2000): sends this gateway may have waiting on Redis; more get `RATE_LIMITED`. */
  maxSendsInFlight: number;
  /** `MAX_JOINS_IN_FLIGHT` (default 64): joins this gateway works on at once; more wait their turn. */
  maxJoinsInFlight: number;
  /**
   * `READINESS_GRACE_MS` (default 10000): how long Redis may be in trouble before `/readyz` turns 503, so a
   * short stall of the shared store does not take every gateway out of the balancer at once.
   */
  readinessGraceMs: number;
  /** `SHUTDOWN_TIMEOUT_MS` (default 10000): longest a graceful stop may take before the process exits anyway. */
  shutdownTimeoutMs: number;
  /**
   * Graceful drain on SIGTERM: `DRAIN_NOTICE_MS` (default 2000) between readiness turning 503 and the first
   * disconnect; `DRAIN_BATCH_SIZE` (default 100) connections moved off every `DRAIN_BATCH_INTERVAL_MS` (default 100).
   */
  drain: { noticeMs: number; batchSize: number; batchIntervalMs: number };
  /**
   * `ADMIN_TOKEN` (default unset: no admin API): bearer token of the cluster page's API at `/admin`, at least 16
   * characters. Never logged, never echoed in an error.
   */
  adminToken: string | undefined;
  /**
   * Identity (README "Identity and access"). Signed-in users: `AUTH_JWT_SECRET` (HS256 key, at least 32
   * characters) and/or `AUTH_JWKS_URL` (RS256/ES256 keys), checked against `AUTH_JWT_ISSUER` and
   * `AUTH_JWT_AUDIENCE` when set. Guests: `AUTH_GUESTS` (default true; false refuses handshakes without a token),
   * their tokens signed with `SESSION_SECRET` (at least 32 characters, the same on every gateway; unset: a
   * secret made up once and kept in Redis, or per process in the embedded mode).
   */
  auth: {
    secret: string | undefined;
    jwksUrl: string | undefined;
    issuer: string | undefined;
    audience: string | undefined;
    guests: boolean;
    sessionSecret: string | undefined;
  };
  /**
   * `API_KEY` (default unset: no server API): bearer key of the server API (`/api/…`) that the owners' backends
   * use to post into rooms and read members and history; at least 16 characters.
   */
  apiKey: string | undefined;
  /**
   * `TYPING_MAX_ROOM_SIZE` (default 100): rooms with more members than this get no typing events (in a big
   * room they are noise, and each one would reach every member).
   */
  typingMaxRoomSize: number;
}

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** A comma-separated list: entries trimmed, empty ones dropped. */
const commaList = ({ lowerCase = false } = {}) =>
  z.string().transform((value) =>
    value
      .split(',')
      .map((entry) => (lowerCase ? entry.trim().toLowerCase() : entry.trim()))
      .filter(Boolean),
  );

const secret = (min: number) =>
  z
    .string()
    .min(min, `must be at least ${min} characters`)
    .max(4096)
    .regex(/^\S+$/, 'must not contain spaces');

const EnvSchema = z.object({
  PORT: int(0, 65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  REDIS_URL: z
    .string()
    .refine((value) => /^rediss?:\/\/[^\s]+$/.test(value), 'must look like redis://host:port')
    .optional(),
  REDIS_CLUSTER_NODES: commaList()
    .refine(
      (nodes) => nodes.length > 0 && nodes.every((node) => /^[A-Za-z0-9_.-]+:\d{1,5}$/.test(node)),
      'must be host:port,host:port,…',
    )
    .optional(),
  REDIS_WAIT_REPLICAS: int(0, 16).default(0),
  REDIS_WAIT_TIMEOUT_MS: int(10, 60_000).default(1_000),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{0,64}$/, 'may contain only letters, digits, "_", ".", ":" and "-"')
    .default('chorus:'),
  NODE_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'may contain only letters, digits, "_", "." and "-" (1-64)')
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
  ALLOWED_ORIGINS: commaList().optional(),
  PUBLIC_URL: z
    .string()
    .refine((value) => /^https?:\/\/[^\s/]+\/?$/.test(value), 'must look like https://chat.example.com')
    .optional(),
  ALLOWED_HOSTS: commaList({ lowerCase: true })
    .refine(
      (hosts) => hosts.every((h) => h === '*' || /^(\*\.)?[a-z0-9.-]+$/.test(h)),
      'must be host names, *.domain or *, comma-separated',
    )
    .optional(),
  HISTORY_CAP: int(100, 10_000_000).default(10_000),
  ROOM_TTL_SECONDS: int(60, 10 * 365 * 24 * 3600).default(30 * 24 * 3600),
  RATE_LIMIT_PER_SECOND: int(1, 100_000).default(10),
  RATE_LIMIT_BURST: int(1, 100_000).default(20),
  REQUEST_RATE_PER_SECOND: int(1, 100_000).default(DEFAULT_REQUEST_LIMITS.perSecond),
  REQUEST_RATE_BURST: int(1, 100_000).default(DEFAULT_REQUEST_LIMITS.burst),
  MAX_REQUESTS_IN_FLIGHT: int(1, 100_000).default(DEFAULT_REQUEST_LIMITS.maxInflight),
  MAX_SENDS_IN_FLIGHT: int(1, 1_000_000).default(DEFAULT_MAX_SENDS_IN_FLIGHT),
  MAX_JOINS_IN_FLIGHT: int(1, 100_000).default(DEFAULT_MAX_JOINS_IN_FLIGHT),
  MAX_CONNECTIONS_PER_ADDRESS: int(1, 10_000_000).default(DEFAULT_ADDRESS_LIMITS.maxConnections),
  ADDRESS_SEND_RATE: int(1, 10_000_000).default(DEFAULT_ADDRESS_LIMITS.sends.perSecond),
  ADDRESS_SEND_BURST: int(1, 10_000_000).default(DEFAULT_ADDRESS_LIMITS.sends.burst),
  ADDRESS_NEW_ROOM_RATE: int(1, 10_000_000).default(DEFAULT_ADDRESS_LIMITS.newRooms.perSecond),
  ADDRESS_NEW_ROOM_BURST: int(1, 10_000_000).default(DEFAULT_ADDRESS_LIMITS.newRooms.burst),
  TRUSTED_PROXIES: commaList()
    .refine(
      (entries) =>
        entries.every((e) => ['loopback', 'private', 'none'].includes(e) || isIP(e.split('/')[0]!) !== 0),
      'must be addresses, CIDR ranges, loopback, private or none, comma-separated',
    )
    .optional(),
  MAX_BUFFERED_BYTES: int(64 * 1024, 1024 * 1024 * 1024).default(DEFAULT_MAX_BUFFERED_BYTES),
  REBALANCE_INTERVAL_MS: int(0, 3_600_000).default(5_000),
  REBALANCE_PER_SECOND: int(1, 10_000).default(5),
  REBALANCE_TOLERANCE_PERCENT: int(1, 1_000).default(20),
  SHUTDOWN_TIMEOUT_MS: int(100, 600_000).default(10_000),
  READINESS_GRACE_MS: int(0, 600_000).default(10_000),
  DRAIN_NOTICE_MS: int(0, 600_000).default(2_000),
  DRAIN_BATCH_SIZE: int(1, 1_000_000).default(100),
  DRAIN_BATCH_INTERVAL_MS: int(0, 60_000).default(100),
  ADMIN_TOKEN: z
    .string()
    .min(16, 'must be at least 16 characters')
    .max(512)
    .regex(/^\S+$/, 'must not contain spaces')
    .optional(),
  AUTH_JWT_SECRET: secret(32).optional(),
  AUTH_JWKS_URL: z
    .string()
    .refine((value) => /^https?:\/\/\S+$/.test(value), 'must be an http(s) URL of a JSON Web Key Set')
    .optional(),
  AUTH_JWT_ISSUER: z.string().max(1024).optional(),
  AUTH_JWT_AUDIENCE: z.string().max(1024).optional(),
  AUTH_GUESTS: z
    .enum(['true', 'false', '1', '0', 'on', 'off', 'yes', 'no'])
    .transform((value) => ['true', '1', 'on', 'yes'].includes(value))
    .default(true),
  SESSION_SECRET: secret(32).optional(),
  API_KEY: secret(16).optional(),
  TYPING_MAX_ROOM_SIZE: int(0, 10_000_000).default(DEFAULT_TYPING_MAX_ROOM_SIZE),
});

/** Variables whose value must never appear in an error message. */
const SECRET_VARIABLES = new Set(['ADMIN_TOKEN', 'AUTH_JWT_SECRET', 'SESSION_SECRET', 'API_KEY']);

/** The names of every environment variable `loadConfig` reads. */
export const CONFIG_VARIABLES: readonly string[] = Object.freeze(Object.keys(EnvSchema.shape));

/** A configuration value that stops start-up; its message names the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Parses the environment into a frozen `Config`, or throws a `ConfigError` whose one-line message names the
 * offending variable. Empty variables count as unset.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv,
  { isTTY = false }: { isTTY?: boolean } = {},
): Readonly<Config> {
  const defined = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = EnvSchema.safeParse(defined);
  if (!result.success) {
    const issue = result.error.issues[0];
    const name = String(issue?.path[0] ?? 'environment');
    const got = SECRET_VARIABLES.has(name)
      ? `${env[name]?.length ?? 0} characters`
      : JSON.stringify(env[name]);
    throw new ConfigError(`invalid ${name}: ${issue?.message ?? 'invalid value'} (got ${got})`);
  }
  const e = result.data;
  if (!e.AUTH_GUESTS && !e.AUTH_JWT_SECRET && !e.AUTH_JWKS_URL) {
    throw new ConfigError(
      'invalid AUTH_GUESTS: with guests off, set AUTH_JWT_SECRET or AUTH_JWKS_URL, or no one can connect',
    );
  }
  if (e.REDIS_URL && e.REDIS_CLUSTER_NODES) {
    throw new ConfigError(
      'invalid REDIS_CLUSTER_NODES: set REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a Redis Cluster), not both',
    );
  }
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    redisUrl: e.REDIS_URL,
    redisClusterNodes: e.REDIS_CLUSTER_NODES && Object.freeze(e.REDIS_CLUSTER_NODES),
    redisWait: Object.freeze({ replicas: e.REDIS_WAIT_REPLICAS, timeoutMs: e.REDIS_WAIT_TIMEOUT_MS }),
    redisPrefix: e.REDIS_PREFIX,
    nodeId:
      e.NODE_ID ??
      `${hostname()
        .replace(/[^A-Za-z0-9_.-]/g, '-')
        .slice(0, 40)}-${randomBytes(3).toString('hex')}`,
    logLevel: e.LOG_LEVEL,
    logPretty: e.LOG_FORMAT === 'pretty' || (e.LOG_FORMAT === 'auto' && isTTY),
    allowedOrigins: e.ALLOWED_ORIGINS && Object.freeze(e.ALLOWED_ORIGINS),
    publicUrl: e.PUBLIC_URL,
    allowedHosts: e.ALLOWED_HOSTS && Object.freeze(e.ALLOWED_HOSTS),
    historyCap: e.HISTORY_CAP,
    roomTtlSeconds: e.ROOM_TTL_SECONDS,
    rateLimit: Object.freeze({ perSecond: e.RATE_LIMIT_PER_SECOND, burst: e.RATE_LIMIT_BURST }),
    requestLimits: Object.freeze({
      perSecond: e.REQUEST_RATE_PER_SECOND,
      burst: e.REQUEST_RATE_BURST,
      maxInflight: e.MAX_REQUESTS_IN_FLIGHT,
    }),
    maxSendsInFlight: e.MAX_SENDS_IN_FLIGHT,
    maxJoinsInFlight: e.MAX_JOINS_IN_FLIGHT,
    maxBufferedBytes: e.MAX_BUFFERED_BYTES,
    addressLimits: Object.freeze({
      maxConnections: e.MAX_CONNECTIONS_PER_ADDRESS,
      sends: Object.freeze({ perSecond: e.ADDRESS_SEND_RATE, burst: e.ADDRESS_SEND_BURST }),
      newRooms: Object.freeze({ perSecond: e.ADDRESS_NEW_ROOM_RATE, burst: e.ADDRESS_NEW_ROOM_BURST }),
    }),
    trustedProxies: Object.freeze(
      (e.TRUSTED_PROXIES ?? [...DEFAULT_TRUSTED_PROXIES]).filter((entry) => entry !== 'none'),
    ),
    rebalance:
      e.REBALANCE_INTERVAL_MS === 0
        ? false
        : Object.freeze({
            intervalMs: e.REBALANCE_INTERVAL_MS,
            perSecond: e.REBALANCE_PER_SECOND,
            tolerance: e.REBALANCE_TOLERANCE_PERCENT / 100,
          }),
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    readinessGraceMs: e.READINESS_GRACE_MS,
    drain: Object.freeze({
      noticeMs: e.DRAIN_NOTICE_MS,
      batchSize: e.DRAIN_BATCH_SIZE,
      batchIntervalMs: e.DRAIN_BATCH_INTERVAL_MS,
    }),
    adminToken: e.ADMIN_TOKEN,
    auth: Object.freeze({
      secret: e.AUTH_JWT_SECRET,
      jwksUrl: e.AUTH_JWKS_URL,
      issuer: e.AUTH_JWT_ISSUER,
      audience: e.AUTH_JWT_AUDIENCE,
      guests: e.AUTH_GUESTS,
      sessionSecret: e.SESSION_SECRET,
    }),
    apiKey: e.API_KEY,
    typingMaxRoomSize: e.TYPING_MAX_ROOM_SIZE,
  });
}
