import {
  type AckError,
  ApiHistoryQuerySchema,
  ApiMessagePostSchema,
  ChorusError,
  LIMITS,
  parsePayload,
  RoomSchema,
  type User,
} from '@chorus/protocol';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { ChatService } from '../chat/chat.service';
import type { GatewayDeps } from '../deps';
import { bearerGate } from '../http/bearer';
import type { AddressOf } from '../http/client-address';
import type { Logger } from '../logger';
import { toAckError } from '../socket/ack';

/** Who a server-API message is from when the request names no user. */
export const SYSTEM_USER: Readonly<User> = Object.freeze({ id: 'system', name: 'system' });

const STATUS: Record<AckError['code'], number> = {
  INVALID_PAYLOAD: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_IN_ROOM: 404,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
};

export interface ApiRoutesOptions {
  /** `API_KEY`: the bearer key the owners' backends send. */
  apiKey: string;
  chat: ChatService;
  deps: Pick<GatewayDeps, 'messages' | 'presence'>;
  logger: Logger;
  /** Who sent a request (behind a trusted balancer, the client it names): wrong keys lock out that address. */
  addressOf: AddressOf;
}

/**
 * The server API for the owners' backends (docs/openapi.yaml), with `Authorization: Bearer <API_KEY>`:
 * post into a room through the same append as clients (seq, history, live delivery, idempotency by
 * `clientMsgId`), and read a room's members and history. Any room, private and direct ones included: the
 * backend is trusted. Errors are `{ error: { code, message } }` with the codes of the socket protocol.
 */
export function createApiRoutes(options: ApiRoutesOptions): Router {
  const router = express.Router();
  const log = options.logger.child({ component: 'api' });
  const gate = bearerGate({
    secret: options.apiKey,
    realm: 'chorus-api',
    addressOf: options.addressOf,
    logger: log,
  });
  const { chat, deps } = options;

  router.use((req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    const refusal = gate(req, res);
    if (refusal?.code === 'RATE_LIMITED')
      return fail(res, ChorusError.rateLimited('too many failed attempts', refusal.retryAfterMs));
    if (refusal)
      return fail(
        res,
        new ChorusError('UNAUTHORIZED', 'a valid Authorization: Bearer <API_KEY> is required'),
      );
    next();
  });
  router.use(express.json({ limit: LIMITS.maxFrameBytes, strict: true }));

  const room = (req: Request) => parsePayload(RoomSchema, req.params.room);

  router.post(
    '/rooms/:room/messages',
    handle(async (req, res) => {
      const target = room(req);
      const body = parsePayload(ApiMessagePostSchema, req.body ?? {});
      const { message, duplicate } = await chat.post({
        room: target,
        user: body.user ?? SYSTEM_USER,
        text: body.text,
        clientMsgId: body.clientMsgId,
      });
      log.info({ room: target, seq: message.seq, user: message.user.id, duplicate }, 'api message posted');
      // The first post of a clientMsgId creates the message; a retry of it answers the same one.
      res.status(duplicate ? 200 : 201).json({ message });
    }),
  );

  router.get(
    '/rooms/:room/members',
    handle(async (req, res) => {
      const target = room(req);
      const members = await deps.presence.members(target, LIMITS.joinMembersMax);
      res.json({ room: target, members: members.users, memberCount: members.count });
    }),
  );

  router.get(
    '/rooms/:room/history',
    handle(async (req, res) => {
      const target = room(req);
      const query = parsePayload(ApiHistoryQuerySchema, { ...req.query });
      res.json({ room: target, ...(await chat.page({ room: target, ...query })) });
    }),
  );

  router.use((_req, res) => {
    fail(res, new ChorusError('INVALID_PAYLOAD', 'no such API route'), 404);
  });
  // Body-parser errors (malformed JSON, too large) and anything else thrown.
  router.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = (error as { status?: number }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return fail(
        res,
        new ChorusError('INVALID_PAYLOAD', `invalid request body (${(error as Error).message})`),
        status,
      );
    }
    fail(res, error);
  });

  function fail(res: Response, error: unknown, status?: number): void {
    const body = toAckError(error, log, 'api');
    if (body.retryAfterMs !== undefined)
      res.setHeader('Retry-After', String(Math.ceil(body.retryAfterMs / 1000)));
    res.status(status ?? STATUS[body.code]).json({ error: body });
  }

  function handle(fn: (req: Request, res: Response) => Promise<void>) {
    return (req: Request, res: Response) => {
      fn(req, res).catch((error: unknown) => fail(res, error));
    };
  }

  return router;
}
