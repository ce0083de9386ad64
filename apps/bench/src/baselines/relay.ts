/**
 * The baseline the bench compares Chorus with: the Socket.IO chat relay most people would write first. It joins
 * rooms and broadcasts to them, keeps nothing (no history, no seq across processes, no presence, no limits), and
 * with `REDIS_URL` shares rooms between processes through `@socket.io/redis-adapter`, which sends every
 * broadcast to every process. It speaks Chorus's event names and ack shape so one client driver loads both.
 *
 * Run as its own process (the bench starts it): `node --expose-gc --import tsx apps/bench/src/baselines/relay.ts`
 * with PORT, HOST, NODE_ID, and optionally REDIS_URL and REDIS_PREFIX.
 */
import { createServer } from 'node:http';
import type {
  ChatMessage,
  ClientToServerEvents,
  InterServerEvents,
  ServerToClientEvents,
} from '@chorus/protocol';
import { LIMITS } from '@chorus/protocol';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';

const port = Number(process.env.PORT ?? 0);
const host = process.env.HOST ?? '127.0.0.1';
const nodeId = process.env.NODE_ID ?? 'relay';
const redisUrl = process.env.REDIS_URL;

const http = createServer((req, res) => {
  if (req.url === '/healthz') {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ status: 'ok', node: nodeId }));
  } else if (req.url === '/heap') {
    // With --expose-gc, a full collection first: the heap the bench divides by connections is live data only.
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ heapUsed: process.memoryUsage().heapUsed, collected: gc !== undefined }));
  } else {
    res.statusCode = 404;
    res.end();
  }
});

// The gateway's transport settings, so the comparison is of what happens above Socket.IO.
const io = new Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents>(http, {
  maxHttpBufferSize: LIMITS.maxFrameBytes,
  serveClient: false,
});

const redis: Redis[] = [];
if (redisUrl) {
  const pub = new Redis(redisUrl, { lazyConnect: false });
  const sub = pub.duplicate();
  redis.push(pub, sub);
  io.adapter(createAdapter(pub, sub, { key: process.env.REDIS_PREFIX ?? 'socket.io' }));
}

let seq = 0;
const refuse = (message: string) => ({
  ok: false as const,
  error: { code: 'INVALID_PAYLOAD' as const, message },
});

io.on('connection', (socket) => {
  const user = { id: socket.id, name: `guest-${socket.id.slice(0, 4)}` };
  socket.emit('session', { user, node: nodeId });

  socket.on('room:join', (payload, ack) => {
    if (typeof ack !== 'function') return;
    const room = payload?.room;
    if (typeof room !== 'string') return ack(refuse('room must be a string'));
    void socket.join(room);
    // This process's members only: counting across processes would cost the relay a request to every node.
    const memberCount = io.of('/').adapter.rooms.get(room)?.size ?? 1;
    ack({ ok: true, room, members: [], memberCount, history: [], epoch: nodeId });
  });

  socket.on('room:leave', (payload, ack) => {
    if (typeof ack !== 'function') return;
    if (typeof payload?.room === 'string') void socket.leave(payload.room);
    ack({ ok: true });
  });

  socket.on('message:send', (payload, ack) => {
    if (typeof ack !== 'function') return;
    const { room, text, clientMsgId } = payload ?? {};
    if (typeof room !== 'string' || typeof text !== 'string')
      return ack(refuse('room and text are required'));
    if (!socket.rooms.has(room)) {
      return ack({ ok: false, error: { code: 'NOT_IN_ROOM', message: `not in ${room}` } });
    }
    seq += 1;
    // seq counts per process: a relay has no cluster-wide order, which is part of what Chorus adds.
    const message: ChatMessage = {
      id: `${nodeId}:${seq}`,
      room,
      epoch: nodeId,
      seq,
      user,
      text,
      ts: Date.now(),
      ...(clientMsgId ? { clientMsgId } : {}),
    };
    io.to(room).emit('message', message);
    ack({ ok: true, message });
  });
});

http.listen(port, host);

const stop = () => {
  io.close();
  for (const client of redis) client.disconnect();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
