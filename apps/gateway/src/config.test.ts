import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, ConfigError, loadConfig } from './config';

/** Runs `loadConfig` and returns the ConfigError it throws, failing the test when it does not throw one. */
function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('uses the documented defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config).toEqual({
      port: 3000,
      host: '0.0.0.0',
      redisUrl: undefined,
      redisClusterNodes: undefined,
      redisWait: { replicas: 0, timeoutMs: 1000 },
      redisPrefix: 'chorus:',
      nodeId: expect.any(String),
      logLevel: 'info',
      logPretty: false,
      allowedOrigins: undefined,
      publicUrl: undefined,
      allowedHosts: undefined,
      historyCap: 10_000,
      roomTtlSeconds: 2_592_000,
      rateLimit: { perSecond: 10, burst: 20 },
      requestLimits: { perSecond: 20, burst: 150, maxInflight: 128 },
      shutdownTimeoutMs: 10_000,
      readinessGraceMs: 10_000,
      maxSendsInFlight: 2000,
      maxJoinsInFlight: 64,
      maxBufferedBytes: 4_194_304,
      addressLimits: {
        maxConnections: 1000,
        sends: { perSecond: 100, burst: 200 },
        newRooms: { perSecond: 2, burst: 120 },
      },
      trustedProxies: ['loopback', 'private'],
      rebalance: { intervalMs: 5000, perSecond: 5, tolerance: 0.2 },
      drain: { noticeMs: 2_000, batchSize: 100, batchIntervalMs: 100 },
      adminToken: undefined,
      auth: {
        secret: undefined,
        jwksUrl: undefined,
        issuer: undefined,
        audience: undefined,
        guests: true,
        sessionSecret: undefined,
      },
      apiKey: undefined,
      typingMaxRoomSize: 100,
    });
  });

  it('makes a node id from the host name and a random suffix, different per start', () => {
    const first = loadConfig({}).nodeId;
    const second = loadConfig({}).nodeId;
    expect(first).toMatch(/^[A-Za-z0-9_.-]+-[0-9a-f]{6}$/);
    expect(
      first.startsWith(
        hostname()
          .replace(/[^A-Za-z0-9_.-]/g, '-')
          .slice(0, 40),
      ),
    ).toBe(true);
    expect(first).not.toBe(second);
  });

  it('parses every variable', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '127.0.0.1',
      REDIS_URL: 'redis://:secret@redis.internal:6380/2',
      REDIS_PREFIX: 'prod-chat:',
      NODE_ID: 'gw-a.1',
      LOG_LEVEL: 'debug',
      LOG_FORMAT: 'pretty',
      ALLOWED_ORIGINS: 'https://chat.example.com, https://admin.example.com,,',
      PUBLIC_URL: 'https://chat.example.com',
      ALLOWED_HOSTS: 'chat.internal, *.EXAMPLE.org',
      HISTORY_CAP: '500',
      REDIS_WAIT_REPLICAS: '1',
      REDIS_WAIT_TIMEOUT_MS: '250',
      ROOM_TTL_SECONDS: '86400',
      RATE_LIMIT_PER_SECOND: '5',
      RATE_LIMIT_BURST: '7',
      REQUEST_RATE_PER_SECOND: '30',
      REQUEST_RATE_BURST: '60',
      MAX_REQUESTS_IN_FLIGHT: '9',
      SHUTDOWN_TIMEOUT_MS: '2500',
      READINESS_GRACE_MS: '1500',
      MAX_SENDS_IN_FLIGHT: '300',
      MAX_JOINS_IN_FLIGHT: '16',
      MAX_BUFFERED_BYTES: '1048576',
      MAX_CONNECTIONS_PER_ADDRESS: '50',
      ADDRESS_SEND_RATE: '10',
      ADDRESS_SEND_BURST: '30',
      ADDRESS_NEW_ROOM_RATE: '1',
      ADDRESS_NEW_ROOM_BURST: '5',
      TRUSTED_PROXIES: '10.0.0.0/8, 192.0.2.7',
      REBALANCE_INTERVAL_MS: '0',
      DRAIN_NOTICE_MS: '0',
      DRAIN_BATCH_SIZE: '10',
      DRAIN_BATCH_INTERVAL_MS: '50',
      ADMIN_TOKEN: 'a-long-enough-admin-token',
      AUTH_JWT_SECRET: 'j'.repeat(32),
      AUTH_JWKS_URL: 'https://id.example.com/.well-known/jwks.json',
      AUTH_JWT_ISSUER: 'https://id.example.com/',
      AUTH_JWT_AUDIENCE: 'chorus',
      AUTH_GUESTS: 'false',
      SESSION_SECRET: 's'.repeat(40),
      API_KEY: 'an-api-key-of-some-length',
      TYPING_MAX_ROOM_SIZE: '25',
    });
    expect(config).toEqual({
      port: 8080,
      host: '127.0.0.1',
      redisUrl: 'redis://:secret@redis.internal:6380/2',
      redisClusterNodes: undefined,
      redisWait: { replicas: 1, timeoutMs: 250 },
      redisPrefix: 'prod-chat:',
      nodeId: 'gw-a.1',
      logLevel: 'debug',
      logPretty: true,
      allowedOrigins: ['https://chat.example.com', 'https://admin.example.com'],
      publicUrl: 'https://chat.example.com',
      allowedHosts: ['chat.internal', '*.example.org'],
      historyCap: 500,
      roomTtlSeconds: 86_400,
      rateLimit: { perSecond: 5, burst: 7 },
      requestLimits: { perSecond: 30, burst: 60, maxInflight: 9 },
      shutdownTimeoutMs: 2500,
      readinessGraceMs: 1500,
      maxSendsInFlight: 300,
      maxJoinsInFlight: 16,
      maxBufferedBytes: 1_048_576,
      addressLimits: {
        maxConnections: 50,
        sends: { perSecond: 10, burst: 30 },
        newRooms: { perSecond: 1, burst: 5 },
      },
      trustedProxies: ['10.0.0.0/8', '192.0.2.7'],
      rebalance: false,
      drain: { noticeMs: 0, batchSize: 10, batchIntervalMs: 50 },
      adminToken: 'a-long-enough-admin-token',
      auth: {
        secret: 'j'.repeat(32),
        jwksUrl: 'https://id.example.com/.well-known/jwks.json',
        issuer: 'https://id.example.com/',
        audience: 'chorus',
        guests: false,
        sessionSecret: 's'.repeat(40),
      },
      apiKey: 'an-api-key-of-some-length',
      typingMaxRoomSize: 25,
    });
  });

  it('refuses AUTH_GUESTS=false without a way to sign in', () => {
    expect(configError({ AUTH_GUESTS: 'false' }).message).toMatch(/^invalid AUTH_GUESTS: .*AUTH_JWT_SECRET/);
    expect(loadConfig({ AUTH_GUESTS: 'off', AUTH_JWT_SECRET: 'k'.repeat(32) }).auth.guests).toBe(false);
  });

  it('reads REDIS_CLUSTER_NODES as seed nodes, and refuses it next to REDIS_URL or malformed', () => {
    expect(loadConfig({ REDIS_CLUSTER_NODES: 'r1:7000, r2.internal:7001,' }).redisClusterNodes).toEqual([
      'r1:7000',
      'r2.internal:7001',
    ]);
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: 'r1:7000', REDIS_URL: 'redis://r1:6379' })).toThrow(
      /^invalid REDIS_CLUSTER_NODES: set REDIS_URL .* not both$/,
    );
    for (const bad of ['r1', 'r1:7000,redis://r2:7001', ',']) {
      expect(() => loadConfig({ REDIS_CLUSTER_NODES: bad })).toThrow(
        /^invalid REDIS_CLUSTER_NODES: must be host:port/,
      );
    }
  });

  it('accepts PORT=0 (pick a free port), rediss:// URLs and a prefix of every allowed character', () => {
    expect(loadConfig({ PORT: '0' }).port).toBe(0);
    expect(loadConfig({ REDIS_URL: 'rediss://cache:6379' }).redisUrl).toBe('rediss://cache:6379');
    expect(loadConfig({ REDIS_PREFIX: 'a.b_c-d:' }).redisPrefix).toBe('a.b_c-d:');
  });

  it('chooses the log format: pretty on a terminal by default, JSON otherwise, and as told', () => {
    expect(loadConfig({}, { isTTY: true }).logPretty).toBe(true);
    expect(loadConfig({}, { isTTY: false }).logPretty).toBe(false);
    expect(loadConfig({ LOG_FORMAT: 'auto' }, { isTTY: true }).logPretty).toBe(true);
    expect(loadConfig({ LOG_FORMAT: 'json' }, { isTTY: true }).logPretty).toBe(false);
    expect(loadConfig({ LOG_FORMAT: 'pretty' }, { isTTY: false }).logPretty).toBe(true);
  });

  it('treats an empty variable as unset', () => {
    const config = loadConfig(Object.fromEntries(CONFIG_VARIABLES.map((name) => [name, ''])));
    expect(config).toEqual({ ...loadConfig({}), nodeId: config.nodeId });
    expect(config.redisUrl).toBeUndefined();
  });

  it('ignores variables it does not know', () => {
    expect(loadConfig({ PATH: '/usr/bin', HOME: '/root', NODE_ENV: 'production' }).port).toBe(3000);
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['REDIS_URL', 'localhost:6379'],
    ['REDIS_URL', 'http://redis:6379'],
    ['REDIS_URL', 'redis://has space'],
    ['REDIS_PREFIX', 'bad prefix'],
    ['REDIS_PREFIX', 'x'.repeat(65)],
    ['NODE_ID', 'node/1'],
    ['NODE_ID', 'n'.repeat(65)],
    ['LOG_LEVEL', 'verbose'],
    ['LOG_FORMAT', 'yaml'],
    ['HISTORY_CAP', '99'],
    ['HISTORY_CAP', 'lots'],
    ['RATE_LIMIT_PER_SECOND', '0'],
    ['RATE_LIMIT_BURST', '100001'],
    ['MAX_REQUESTS_IN_FLIGHT', '0'],
    ['SHUTDOWN_TIMEOUT_MS', '99'],
    ['SHUTDOWN_TIMEOUT_MS', '600001'],
    ['DRAIN_BATCH_SIZE', '0'],
    ['DRAIN_NOTICE_MS', '-1'],
    ['AUTH_JWKS_URL', 'file:///etc/keys.json'],
    ['AUTH_GUESTS', 'maybe'],
  ])('refuses %s=%j with a ConfigError naming the variable', (name, value) => {
    const error = configError({ [name]: value });
    expect(error.name).toBe('ConfigError');
    expect(error.message).toMatch(new RegExp(`^invalid ${name}: `));
    expect(error.message).toContain(JSON.stringify(value));
    expect(error.message).not.toContain('\n');
  });

  it.each([
    ['ADMIN_TOKEN', 'too short', 'short-token'],
    ['ADMIN_TOKEN', 'with a space', 'sixteen chars and more'],
    ['AUTH_JWT_SECRET', 'too short', 'a-secret-of-31-characters-xxxxx'],
    ['SESSION_SECRET', 'too short', 'not-32-characters'],
    ['API_KEY', 'too short', 'api-key-15-char'],
  ])('refuses a %s %s without echoing it', (name, _what, value) => {
    const error = configError({ [name]: value });
    expect(error.message).toMatch(new RegExp(`^invalid ${name}: `));
    expect(error.message).toContain(`(got ${value.length} characters)`);
    expect(error.message).not.toContain(value);
  });

  it('names a bad variable when several are bad', () => {
    expect(configError({ PORT: 'abc', LOG_LEVEL: 'loud' }).message).toMatch(/^invalid (PORT|LOG_LEVEL): /);
  });

  it('returns a frozen config, nested values included', () => {
    const config = loadConfig({ ALLOWED_ORIGINS: 'https://chat.example.com' });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.rateLimit)).toBe(true);
    expect(Object.isFrozen(config.allowedOrigins)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
  });
});
