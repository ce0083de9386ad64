import { LIMITS } from '@chorus/protocol';
import { beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { expectClusterServes, expectLobbyUntouched, lobbyOfThree } from '../support/bystanders';
import { startCluster, type TestCluster } from '../support/cluster';
import { useRedis } from '../support/hooks';
import { type Attempt, tryConnect } from '../support/identity';
import { useSecurityWatch } from '../support/security-watch';
import { withTimeout } from '../support/wait';

const redis = useRedis();
useSecurityWatch();
let cluster: TestCluster;

/** Opens a plain WebSocket with `origin` and reports `'open'` or the HTTP status that refused the upgrade. */
function plainUpgrade(url: string, origin: string): Promise<'open' | number> {
  const ws = new WebSocket(new URL('/ws?room=lobby', url.replace(/^http/, 'ws')), {
    headers: { Origin: origin },
  });
  ws.on('error', () => {});
  return withTimeout(
    new Promise((resolve) => {
      ws.once('open', () => {
        resolve('open');
        ws.close();
      });
      ws.once('unexpected-response', (req, res) => {
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
    }),
    5_000,
    `plain upgrade from ${origin}`,
  );
}

const outcome = (attempt: Attempt) => ('session' in attempt ? 'accepted' : 'refused');

describe('handshake auth', () => {
  beforeEach(async () => {
    cluster = await startCluster({ redisUrl: redis.url, gateways: 2 });
  });

  it('refuses every malformed auth with connect_error code INVALID_PAYLOAD naming the problem', async () => {
    const lobby = await lobbyOfThree(cluster);
    const cases: { label: string; auth: Record<string, unknown>; message: RegExp }[] = [
      { label: 'an empty name', auth: { name: '' }, message: /^invalid auth\.name: name must not be blank$/ },
      {
        label: 'a blank name',
        auth: { name: '   ' },
        message: /^invalid auth\.name: name must not be blank$/,
      },
      {
        label: 'a name one over the limit',
        auth: { name: 'n'.repeat(LIMITS.nameMax + 1) },
        message: /^invalid auth\.name: name must be at most 32 characters$/,
      },
      { label: 'a NUL in the name', auth: { name: 'ali\u0000ce' }, message: /control characters/ },
      { label: 'a newline in the name', auth: { name: 'alice\nfrom bob' }, message: /control characters/ },
      { label: 'a DEL in the name', auth: { name: 'alice\u007f' }, message: /control characters/ },
      {
        label: 'a lone surrogate in the name',
        auth: { name: 'ali\ud800ce' },
        message: /well-formed Unicode/,
      },
      { label: 'a zero-width space in the name', auth: { name: 'ali\u200bce' }, message: /invisible/ },
      { label: 'a right-to-left override in the name', auth: { name: '\u202eecila' }, message: /invisible/ },
      { label: 'a C1 control in the name', auth: { name: 'alice\u0085' }, message: /control/ },
      { label: 'a number as name', auth: { name: 42 }, message: /^invalid auth\.name: / },
      { label: 'an unknown key', auth: { name: 'alice', role: 'admin' }, message: /^invalid auth: .*"role"/ },
      {
        label: 'an own __proto__ key',
        auth: JSON.parse('{"name":"alice","__proto__":{"admin":true}}'),
        message: /^invalid auth: .*"__proto__"/,
      },
    ];
    const answers: { label: string; answer: unknown }[] = [];
    for (const { label, auth } of cases) {
      const attempt = await tryConnect(cluster.gateways[0]!.url, { auth });
      answers.push({ label, answer: 'session' in attempt ? attempt : attempt.refused.data });
    }
    expect(answers).toEqual(
      cases.map(({ label, message }) => ({
        label,
        answer: { code: 'INVALID_PAYLOAD', message: expect.stringMatching(message) },
      })),
    );
    await expectLobbyUntouched(Object.values(lobby), lobby.neighbour);
    await expectClusterServes(cluster);
  });

  it('names a client that sends no auth guest-xxxx, marks it a guest and gives it a guest token', async () => {
    const attempt = await tryConnect(cluster.gateways[0]!.url);
    expect(attempt).toEqual({
      session: {
        node: 'gw-1',
        user: {
          id: expect.stringMatching(/^guest-[A-Za-z0-9_-]{16}$/),
          name: expect.stringMatching(/^guest-[0-9a-f]{4}$/),
          guest: true,
        },
        guestToken: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
      },
    });
  });
});

describe('browser origins without an allow-list', () => {
  beforeEach(async () => {
    cluster = await startCluster({ redisUrl: redis.url, gateways: 2 });
  });

  it('refuses Socket.IO over websocket and polling, and the plain WebSocket, from a cross-site Origin', async () => {
    const { url } = cluster.gateways[0]!;
    const extraHeaders = { Origin: 'http://evil.example' };
    expect(outcome(await tryConnect(url, { extraHeaders, transports: ['websocket'] }))).toBe('refused');
    expect(outcome(await tryConnect(url, { extraHeaders, transports: ['polling'] }))).toBe('refused');
    expect(await plainUpgrade(url, 'http://evil.example')).toBe(403);
    await expectClusterServes(cluster);
  });

  it('refuses the opaque Origin "null" and hosts that only start like this one', async () => {
    const { url, port } = cluster.gateways[0]!;
    for (const origin of [
      'null',
      `http://127.0.0.1:${port}.evil.example`,
      `http://127.0.0.1.evil.example:${port}`,
    ]) {
      const attempt = await tryConnect(url, { extraHeaders: { Origin: origin } });
      expect({ origin, outcome: outcome(attempt) }).toEqual({ origin, outcome: 'refused' });
      expect({ origin, plain: await plainUpgrade(url, origin) }).toEqual({ origin, plain: 403 });
    }
  });

  it('accepts a same-host Origin over websocket, polling and the plain WebSocket', async () => {
    const { url } = cluster.gateways[0]!;
    const extraHeaders = { Origin: url };
    expect(outcome(await tryConnect(url, { extraHeaders, transports: ['websocket'] }))).toBe('accepted');
    expect(outcome(await tryConnect(url, { extraHeaders, transports: ['polling'] }))).toBe('accepted');
    expect(await plainUpgrade(url, url)).toBe('open');
  });
});

describe('browser origins with an allow-list', () => {
  beforeEach(async () => {
    cluster = await startCluster({
      redisUrl: redis.url,
      gateways: 2,
      allowedOrigins: ['https://chat.example'],
    });
  });

  it('accepts a listed Origin and refuses any other', async () => {
    const { url } = cluster.gateways[1]!;
    for (const transports of [['websocket'], ['polling']] as const) {
      const listed = await tryConnect(url, {
        transports: [...transports],
        extraHeaders: { Origin: 'https://chat.example' },
      });
      const other = await tryConnect(url, {
        transports: [...transports],
        extraHeaders: { Origin: 'https://evil.example' },
      });
      expect({ transports, listed: outcome(listed), other: outcome(other) }).toEqual({
        transports,
        listed: 'accepted',
        other: 'refused',
      });
    }
    expect(await plainUpgrade(url, 'https://chat.example')).toBe('open');
    expect(await plainUpgrade(url, 'https://evil.example')).toBe(403);
  });
});
