import { randomBytes } from 'node:crypto';
import type { Server as HttpServer, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  type ChatMessage,
  ChorusError,
  formatPlainLine,
  LIMITS,
  NameSchema,
  PLAIN_WS_PATH,
  RoomSchema,
  TextSchema,
} from '@chorus/protocol';
import { type WebSocket, WebSocketServer } from 'ws';
import { isReservedName } from '../auth/authenticator';
import type { ChatService } from '../chat/chat.service';
import type { LocalSinks } from '../chat/delivery';
import type { Connection } from '../connection';
import type { GatewayContext } from '../context';
import type { AccessPolicy } from '../http/access';
import { clientAddress, type TrustedProxies } from '../http/client-address';
import { TokenBucket } from '../limits/token-bucket';
import type { RoomService } from '../rooms/rooms.service';
import { toAckError } from '../socket/ack';
import { guestName, newUserId } from '../socket/handshake';

export interface PlainWsOptions {
  rooms: RoomService;
  chat: ChatService;
  sinks: LocalSinks;
  /** Which hosts and browser origins may connect. */
  access: AccessPolicy;
  /** Whose `X-Forwarded-For` is believed. */
  proxies: TrustedProxies;
  rateLimit: { perSecond: number; burst: number };
  /** Bytes a plain client may have unsent before it is closed as a slow consumer. */
  maxBufferedBytes: number;
  /** While true, new plain connections are refused with 503. */
  isDraining: () => boolean;
  /** Plain clients are guests: with guests off (`AUTH_GUESTS=false`) every upgrade is refused with 401. */
  allowGuests: boolean;
}

/**
 * The seed's page opened `new WebSocket('ws://host:port')`: the root path, no query. An upgrade there speaks the
 * plain protocol exactly like one at {@link PLAIN_WS_PATH} (so `lobby` and a guest name), and the old page works
 * unchanged against any gateway or the balancer. A plain GET of `/` still gets the web app.
 */
const SEED_WS_PATH = '/';

/**
 * The seed's plain WebSocket protocol at `/ws?room=<room>&name=<name>` (and at `/`, see {@link SEED_WS_PATH}):
 * each text frame is posted to the room, each message of the room arrives as the text frame `from <name>: <text>`.
 * Errors arrive as `error: <CODE> <message>`.
 */
export function attachPlainWebSocket(httpServer: HttpServer, ctx: GatewayContext, options: PlainWsOptions) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: LIMITS.maxFrameBytes });
  const log = ctx.logger.child({ transport: 'plain-ws' });

  const reject = (socket: Duplex, status: number, reason: string) => {
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n${reason}\n`,
    );
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== PLAIN_WS_PATH && url.pathname !== SEED_WS_PATH) {
      // Socket.IO answers its own path; any other upgrade is refused here.
      if (!url.pathname.startsWith('/socket.io/')) reject(socket, 404, 'Not Found');
      return;
    }
    if (options.isDraining()) return reject(socket, 503, 'Service Unavailable');
    if (!options.allowGuests) return reject(socket, 401, 'Unauthorized: sign-in required (guests are off)');
    const refusal = options.access.check(req);
    if (refusal)
      return reject(
        socket,
        refusal.status,
        refusal.status === 421 ? 'Misdirected Request' : 'Forbidden origin',
      );
    const room = RoomSchema.safeParse(url.searchParams.get('room') ?? 'lobby');
    const name = NameSchema.optional().safeParse(url.searchParams.get('name') ?? undefined);
    if (!room.success) return reject(socket, 400, `Bad room: ${room.error.issues[0]?.message}`);
    if (!name.success) return reject(socket, 400, `Bad name: ${name.error.issues[0]?.message}`);
    // Plain clients are guests: the names guests may not take are refused here too.
    if (name.data !== undefined && isReservedName(name.data))
      return reject(socket, 400, 'Bad name: reserved');
    const address = clientAddress(req, options.proxies);
    ctx.addressLimiter.open(address).then(
      (allowed) => {
        if (!allowed) return reject(socket, 429, 'Too Many Connections From Your Address');
        wss.handleUpgrade(req, socket, head, (ws) => {
          ws.once('close', () => ctx.addressLimiter.close(address));
          serve(ws, room.data, name.data ?? guestName(), address);
        });
      },
      () => reject(socket, 503, 'Service Unavailable'),
    );
  };

  function serve(ws: WebSocket, room: string, name: string, address: string) {
    const id = `ws-${randomBytes(8).toString('base64url')}`;
    const user = { id: newUserId(), name, guest: true as const };
    const connLog = log.child({ socket: id, user: user.id, room });
    const sink = {
      deliver: (message: ChatMessage) => {
        if (ws.readyState !== ws.OPEN) return;
        // A client that stopped reading is dropped rather than buffered for without end.
        if (ws.bufferedAmount > options.maxBufferedBytes) {
          ctx.metrics.slowConsumers.inc({ transport: 'plain' });
          connLog.warn({ bytes: ws.bufferedAmount }, 'closed a slow consumer');
          ws.terminate();
          return;
        }
        ws.send(formatPlainLine(message));
      },
      // The seed protocol has no resume: tell the client to reconnect, which starts it afresh.
      reset: () => ws.close(1012, 'room history reset, reconnect'),
    };
    const conn: Connection = {
      id,
      user,
      grants: [],
      address,
      rooms: new Set(),
      log: connLog,
      limiter: new TokenBucket(options.rateLimit),
      subscribe: (r) => options.sinks.add(r, sink),
      unsubscribe: (r) => options.sinks.remove(r, sink),
      get closed() {
        return ws.readyState !== ws.OPEN;
      },
    };
    const sendError = (error: unknown) => {
      const { code, message } = toAckError(error, connLog, 'plain:message');
      if (ws.readyState === ws.OPEN) ws.send(`error: ${code} ${message}`);
    };
    let alive = true;
    ws.on('pong', () => {
      alive = true;
    });
    const ping = setInterval(() => {
      if (!alive) return ws.terminate();
      alive = false;
      ws.ping();
    }, 30_000);
    ping.unref();

    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        ctx.metrics.invalidPayloads.inc({ transport: 'plain' });
        ws.close(1003, 'text frames only');
        return;
      }
      const text = TextSchema.safeParse(data.toString());
      if (!text.success) {
        ctx.metrics.invalidPayloads.inc({ transport: 'plain' });
        sendError(new ChorusError('INVALID_PAYLOAD', text.error.issues[0]?.message ?? 'invalid text'));
        return;
      }
      // Frames that arrive while the join is in flight wait for it, in order.
      joined
        .then((ok) => (ok ? options.chat.send(conn, { room, text: text.data }) : undefined))
        .catch(sendError);
    });
    ws.on('error', (error) => connLog.warn({ err: { message: error.message } }, 'plain socket error'));
    let closed = false;
    ws.on('close', (code) => {
      closed = true;
      clearInterval(ping);
      connLog.info({ code }, 'disconnected');
      void joined.then(() => options.rooms.leaveAll(conn));
    });
    connLog.info('connected');
    const joined: Promise<boolean> = options.rooms.join(conn, { room }).then(
      () => !closed,
      (error: unknown) => {
        sendError(error);
        ws.close(1011, 'join failed');
        return false;
      },
    );
  }

  httpServer.on('upgrade', onUpgrade);
  return {
    size: () => wss.clients.size,
    /** Closes every plain connection (1012 service restart: reconnect) and stops accepting new ones. */
    close(): void {
      httpServer.off('upgrade', onUpgrade);
      for (const client of wss.clients) client.close(1012, 'server restarting, reconnect');
      wss.close();
    },
  };
}
