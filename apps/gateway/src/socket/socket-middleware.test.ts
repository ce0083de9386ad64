import { ChorusError, MessageSendSchema } from '@chorus/protocol';
import type { Socket } from 'socket.io';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AuthError, Authenticator } from '../auth/authenticator';
import type { ChorusServer } from '../context';
import { TrustedProxies } from '../http/client-address';
import type { AddressLimiter } from '../limits/address-limiter';
import { RequestBudget } from '../limits/request-budget';
import type { Logger } from '../logger';
import { createMetrics } from '../metrics/metrics';
import { sharedAck, toAckError, withAck } from './ack';
import { observeAcks } from './ack-metrics';
import { guardEvents } from './guard';
import { handshakeError, useHandshake } from './handshake';

type Packet = unknown[];
type Middleware = (packet: Packet, next: (error?: Error) => void) => void;

/** A logger that records what it was told, by level; enough of pino for these. */
function recorder() {
  const lines: [string, Record<string, unknown>, string][] = [];
  const log = {
    warn: (fields: Record<string, unknown>, message: string) => lines.push(['warn', fields, message]),
    error: (fields: Record<string, unknown>, message: string) => lines.push(['error', fields, message]),
    info: () => {},
    debug: () => {},
    child: () => log,
  };
  return { log: log as unknown as Logger, lines };
}

/** A socket with Socket.IO's middleware chain: `send` runs a packet through it and says whether it got through. */
function fakeSocket() {
  const middlewares: Middleware[] = [];
  let disconnected = false;
  const socket = {
    use: (fn: Middleware) => middlewares.push(fn),
    disconnect: () => {
      disconnected = true;
    },
  } as unknown as Socket;
  const send = (packet: Packet): boolean => {
    let passed = true;
    for (const fn of middlewares) {
      let called = false;
      fn(packet, () => {
        called = true;
      });
      if (!called) {
        passed = false;
        break;
      }
    }
    return passed;
  };
  return { socket, send, disconnected: () => disconnected };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('acks', () => {
  it('answers ok with the handler’s result, after parsing the payload', async () => {
    const { log } = recorder();
    const answers: unknown[] = [];
    const handler = withAck('message:send', MessageSendSchema, log, async (payload) => ({
      echoed: payload.text,
    }));
    handler({ room: 'r', text: 'hi' }, (a) => answers.push(a));
    await flush();
    expect(answers).toEqual([{ ok: true, echoed: 'hi' }]);
  });

  it('answers INVALID_PAYLOAD for a bad payload, without calling the handler', async () => {
    const { log } = recorder();
    const answers: unknown[] = [];
    const handler = vi.fn(async () => ({}));
    withAck('message:send', MessageSendSchema, log, handler)({ room: '' }, (a) => answers.push(a));
    await flush();
    expect(handler).not.toHaveBeenCalled();
    expect(answers).toMatchObject([{ ok: false, error: { code: 'INVALID_PAYLOAD' } }]);
  });

  it('hides unexpected errors behind INTERNAL and logs them; keeps a ChorusError’s code', async () => {
    const { log, lines } = recorder();
    expect(toAckError(new Error('secret detail'), log, 'e')).toEqual({
      code: 'INTERNAL',
      message: 'internal error',
    });
    expect(lines).toEqual([['error', { event: 'e', err: new Error('secret detail') }, 'handler failed']]);
    expect(toAckError(new ChorusError('FORBIDDEN', 'no'), log, 'e')).toEqual({
      code: 'FORBIDDEN',
      message: 'no',
    });
    expect(lines).toHaveLength(1);
    expect(toAckError(new ChorusError('UNAVAILABLE', 'down'), log, 'e')).toEqual({
      code: 'UNAVAILABLE',
      message: 'down',
    });
    expect(lines[1]).toEqual(['warn', { event: 'e' }, 'backing store unavailable']);
  });

  it('survives an ack that throws, and a handler that throws synchronously', async () => {
    const { log, lines } = recorder();
    const throwing = withAck('e', MessageSendSchema, log, () => {
      throw new Error('sync');
    });
    const answers: unknown[] = [];
    throwing({ room: 'r', text: 'x' }, (a) => answers.push(a));
    await flush();
    expect(answers).toEqual([{ ok: false, error: { code: 'INTERNAL', message: 'internal error' } }]);
    withAck('e', MessageSendSchema, log, async () => ({}))({ room: 'r', text: 'x' }, () => {
      throw new Error('socket gone');
    });
    await flush();
    expect(lines.at(-1)).toEqual(['error', { event: 'e', err: new Error('socket gone') }, 'ack failed']);
  });

  it('finds the socket’s context for a shared handler, and answers INTERNAL without one', async () => {
    const { log } = recorder();
    const contexts = new Map<object, { log: Logger; name: string }>();
    const handler = sharedAck(
      'e',
      MessageSendSchema,
      (s) => contexts.get(s),
      async (ctx, p) => ({ by: ctx.name, text: p.text }),
    );
    const socket = {} as Socket;
    const answers: unknown[] = [];
    handler.call(socket, { room: 'r', text: 'x' }, (a) => answers.push(a));
    contexts.set(socket, { log, name: 'ctx' });
    handler.call(socket, { room: 'r', text: 'y' }, (a) => answers.push(a));
    await flush();
    expect(answers).toEqual([
      { ok: false, error: { code: 'INTERNAL', message: 'internal error' } },
      { ok: true, by: 'ctx', text: 'y' },
    ]);
  });
});

describe('the event guard', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function guarded(limits = { perSecond: 1_000, burst: 1_000, maxInflight: 10 }) {
    const s = fakeSocket();
    const warnings: [Record<string, unknown>, string][] = [];
    guardEvents(s.socket, (fields, message) => warnings.push([fields, message]), new RequestBudget(limits));
    return { ...s, warnings };
  }

  it('passes a known event called with (payload, ack), and frees its slot when it is answered', () => {
    const g = guarded({ perSecond: 1_000, burst: 1_000, maxInflight: 1 });
    const answers: unknown[] = [];
    const packet: Packet = ['room:join', { room: 'r' }, (a: unknown) => answers.push(a)];
    expect(g.send(packet)).toBe(true);
    // The slot is taken until the (wrapped) ack goes out.
    const second: Packet = ['room:join', { room: 'r' }, (a: unknown) => answers.push(a)];
    expect(g.send(second)).toBe(false);
    expect(answers).toMatchObject([{ ok: false, error: { code: 'RATE_LIMITED' } }]);
    (packet[2] as (a: unknown) => void)({ ok: true });
    expect(answers.at(-1)).toEqual({ ok: true });
    expect(g.send(['room:join', { room: 'r' }, () => {}])).toBe(true);
  });

  it('drops an event without an ack, answers an unknown one and a wrong call INVALID_PAYLOAD', () => {
    const g = guarded();
    expect(g.send(['room:join', { room: 'r' }])).toBe(false);
    expect(g.warnings[0]).toEqual([{ event: 'room:join', args: 1 }, 'dropped event without ack']);
    const answers: unknown[] = [];
    const ack = (a: unknown) => answers.push(a);
    expect(g.send([`x${'y'.repeat(100)}`, {}, ack])).toBe(false);
    expect(answers[0]).toEqual({
      ok: false,
      error: { code: 'INVALID_PAYLOAD', message: `unknown event "x${'y'.repeat(63)}"` },
    });
    expect(g.warnings[1]).toEqual([{ event: `x${'y'.repeat(63)}` }, 'unknown event']);
    expect(g.send(['room:join', ack])).toBe(false);
    expect(g.send(['room:join', {}, {}, ack])).toBe(false);
    expect(answers.slice(1)).toEqual([
      { ok: false, error: { code: 'INVALID_PAYLOAD', message: 'room:join takes (payload, ack)' } },
      { ok: false, error: { code: 'INVALID_PAYLOAD', message: 'room:join takes (payload, ack)' } },
    ]);
    expect(g.warnings[2]).toEqual([{ event: 'room:join', args: 1 }, 'wrong number of arguments']);
  });

  it('refuses past the budget, then cuts off a client that keeps going, a moment later', () => {
    const g = guarded({ perSecond: 0.001, burst: 1, maxInflight: 1_000 });
    const answers: unknown[] = [];
    const ack = (a: unknown) => answers.push(a);
    expect(g.send(['rooms:list', {}, ack])).toBe(true);
    for (let i = 0; i < 100; i++) expect(g.send(['rooms:list', {}, ack])).toBe(false);
    expect(g.disconnected()).toBe(false);
    expect(g.warnings).toEqual([]);
    expect(g.send(['rooms:list', {}, ack])).toBe(false);
    expect(g.warnings).toEqual([
      [{ event: 'rooms:list' }, 'disconnecting a client that ignores RATE_LIMITED'],
    ]);
    expect(answers).toHaveLength(101);
    // Nothing more is looked at, not even answered.
    expect(g.send(['rooms:list', {}, ack])).toBe(false);
    expect(answers).toHaveLength(101);
    vi.advanceTimersByTime(249);
    expect(g.disconnected()).toBe(false);
    vi.advanceTimersByTime(1);
    expect(g.disconnected()).toBe(true);
  });
});

describe('ack metrics', () => {
  it('times each request by event and outcome, and counts invalid payloads', async () => {
    const metrics = createMetrics('gw', { processMetrics: false });
    const s = fakeSocket();
    observeAcks(s.socket, metrics);
    const acks: unknown[] = [];
    const run = (packet: Packet, response?: unknown) => {
      expect(s.send(packet)).toBe(true);
      if (typeof packet.at(-1) === 'function') (packet.at(-1) as (r: unknown) => void)(response);
    };
    run(['room:join', {}, (r: unknown) => acks.push(r)], { ok: true });
    run(['nope', {}, (r: unknown) => acks.push(r)], { ok: false, error: { code: 'INVALID_PAYLOAD' } });
    run(['message:send', {}, (r: unknown) => acks.push(r)], { ok: false, error: { code: 'RATE_LIMITED' } });
    run(['message:send', {}, (r: unknown) => acks.push(r)], 'weird');
    run(['message:send', {}, (r: unknown) => acks.push(r)], null);
    run(['message:send', {}, (r: unknown) => acks.push(r)], { ok: false, error: { code: 7 } });
    run(['message:send', {}]);
    expect(acks).toEqual([
      { ok: true },
      { ok: false, error: { code: 'INVALID_PAYLOAD' } },
      { ok: false, error: { code: 'RATE_LIMITED' } },
      'weird',
      null,
      { ok: false, error: { code: 7 } },
    ]);
    const counts = (await metrics.ackLatency.get()).values
      .filter((v) => v.metricName === 'chorus_ack_latency_seconds_count')
      .map((v) => `${v.labels.event} ${v.labels.outcome} ${v.value}`)
      .sort();
    expect(counts).toEqual([
      'message:send INTERNAL 3',
      'message:send RATE_LIMITED 1',
      'room:join ok 1',
      'unknown INVALID_PAYLOAD 1',
    ]);
    const invalid = (await metrics.invalidPayloads.get()).values.find(
      (v) => v.labels.transport === 'socketio',
    );
    expect(invalid?.value).toBe(2);
    // One observer per registry, shared by every socket.
    const other = fakeSocket();
    const uses: unknown[] = [];
    const spy = { use: (fn: unknown) => uses.push(fn) } as unknown as Socket;
    observeAcks(spy, metrics);
    observeAcks(other.socket, metrics);
    observeAcks(spy, metrics);
    expect(uses[0]).toBe(uses[1]);
    observeAcks(spy, createMetrics('gw2', { processMetrics: false }));
    expect(uses[2]).not.toBe(uses[0]);
  });
});

describe('the handshake', () => {
  const SECRET = 'shared-secret-shared-secret-shared-secret';

  function handshake(options: { open?: boolean; authenticate?: Authenticator['authenticate'] } = {}) {
    let middleware: ((socket: unknown, next: (error?: Error) => void) => void) | undefined;
    let onEngineConnection: ((raw: unknown) => void) | undefined;
    const io = {
      use: (fn: typeof middleware) => (middleware = fn),
      engine: { on: (_event: 'connection', fn: typeof onEngineConnection) => (onEngineConnection = fn) },
    } as unknown as ChorusServer;
    const auth = new Authenticator({}, async () => SECRET);
    if (options.authenticate) auth.authenticate = options.authenticate;
    const opened: string[] = [];
    const closed: string[] = [];
    const limiter = {
      open: async (address: string) => {
        opened.push(address);
        return options.open ?? true;
      },
      close: (address: string) => closed.push(address),
    } as unknown as AddressLimiter;
    const { log, lines } = recorder();
    useHandshake(io, auth, limiter, new TrustedProxies([]), log);
    /** Connects as Socket.IO would: the engine's connection with its first request, then the namespace's socket. */
    const connect = async (authPayload: unknown, during?: (conn: { readyState: string }) => void) => {
      const request = {
        socket: { remoteAddress: '198.51.100.7' },
        headers: { 'user-agent': 'test' },
        rawHeaders: ['User-Agent', 'test'],
      };
      const conn = { request: request as typeof request | null, readyState: 'open' };
      onEngineConnection!(conn);
      const handlers = new Map<string, () => void>();
      const socket = {
        handshake: { auth: authPayload },
        conn,
        request: conn.request,
        data: {} as Record<string, unknown>,
        on: (event: string, fn: () => void) => handlers.set(event, fn),
      };
      during?.(conn);
      const error = await new Promise<Error | undefined>((resolve) => middleware!(socket, resolve));
      return {
        error,
        data: socket.data,
        conn,
        request,
        disconnect: () => handlers.get('disconnect')?.call(socket),
      };
    };
    return { connect, opened, closed, lines };
  }

  it('makes a guest, puts who it is on the socket, and counts the connection until it closes', async () => {
    const h = handshake();
    const { error, data, disconnect } = await h.connect({ name: 'bob' });
    expect(error).toBeUndefined();
    expect(data).toMatchObject({ user: { name: 'bob', guest: true }, grants: [], address: '198.51.100.7' });
    expect(typeof data.guestToken).toBe('string');
    expect('expiresAt' in data).toBe(false);
    expect(h.opened).toEqual(['198.51.100.7']);
    expect(h.closed).toEqual([]);
    disconnect();
    expect(h.closed).toEqual(['198.51.100.7']);
  });

  it('reads the address from the first request, then lets the request and its headers go', async () => {
    const h = handshake();
    const { error, data, conn, request } = await h.connect({});
    expect(error).toBeUndefined();
    expect(data.address).toBe('198.51.100.7');
    expect(conn.request).toBeNull();
    expect(request.headers).toEqual({});
    expect(request.rawHeaders).toEqual([]);
  });

  it('uncounts a client that left while its handshake was decided (Socket.IO never connects nor disconnects it)', async () => {
    const h = handshake();
    const { error } = await h.connect({}, (conn) => {
      // The transport closes after the CONNECT packet arrived, before the identity and the count are settled.
      void Promise.resolve().then(() => (conn.readyState = 'closed'));
    });
    expect(error).toMatchObject({ data: { code: 'UNAVAILABLE' } });
    expect(h.opened).toEqual(['198.51.100.7']);
    expect(h.closed).toEqual(['198.51.100.7']);
  });

  it('keeps a signed-in user’s expiry and no guest token', async () => {
    const h = handshake({
      authenticate: async () => ({ user: { id: 'u', name: 'n' }, grants: ['private-a'], expiresAt: 123 }),
    });
    const { data } = await h.connect({});
    expect(data).toMatchObject({ user: { id: 'u', name: 'n' }, grants: ['private-a'], expiresAt: 123 });
    expect('guestToken' in data).toBe(false);
  });

  it('refuses a bad auth object with the path of what is wrong', async () => {
    const h = handshake();
    const { error } = await h.connect({ name: '' });
    expect(error).toMatchObject({
      message: 'invalid auth.name: name must not be blank',
      data: { code: 'INVALID_PAYLOAD' },
    });
    const extra = await h.connect({ nope: 1 });
    expect(extra.error?.message).toMatch(/^invalid auth: /);
    expect((await h.connect(undefined)).error).toBeUndefined();
    expect(h.opened).toHaveLength(1);
  });

  it('refuses past the address’s connections, and says why', async () => {
    const h = handshake({ open: false });
    const { error } = await h.connect({});
    expect(error).toMatchObject({
      data: { code: 'RATE_LIMITED', message: 'too many connections from your address' },
    });
  });

  it('refuses bad credentials UNAUTHORIZED with a log line, and an unusable name without one', async () => {
    const h = handshake();
    const { error } = await h.connect({ token: 'a.b.c' });
    expect(error).toMatchObject({ data: { code: 'UNAUTHORIZED' } });
    expect(h.lines).toEqual([
      ['warn', { ip: '198.51.100.7', reason: (error as Error).message }, 'handshake refused'],
    ]);
    const reserved = await h.connect({ name: 'admin' });
    expect(reserved.error).toMatchObject({ data: { code: 'INVALID_PAYLOAD' } });
    expect(h.lines).toHaveLength(1);
  });

  it('answers UNAVAILABLE when the identity cannot be checked', async () => {
    const h = handshake({
      authenticate: async () => {
        throw new Error('Redis away');
      },
    });
    const { error } = await h.connect({});
    expect(error).toMatchObject({
      message: 'your identity could not be checked right now; retry',
      data: { code: 'UNAVAILABLE' },
    });
    expect(h.lines).toEqual([
      ['warn', { ip: '198.51.100.7', err: { message: 'Redis away' } }, 'identity check failed'],
    ]);
    expect(handshakeError('FORBIDDEN', 'x')).toMatchObject({
      message: 'x',
      data: { code: 'FORBIDDEN', message: 'x' },
    });
    expect(new AuthError('UNAUTHORIZED', 'm').name).toBe('AuthError');
  });
});
