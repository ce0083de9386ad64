import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SessionInfo } from '@chorus/protocol';
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';
import { io, type ManagerOptions, type SocketOptions } from 'socket.io-client';
import { withTimeout } from './wait';

/** The HS256 secret, issuer and audience the identity tests configure their gateways with. */
export const JWT_SECRET = 'test-jwt-secret-of-at-least-32-characters';
export const ISSUER = 'https://id.test.example/';
export const AUDIENCE = 'chorus-tests';

/** Mints an HS256 token for `sub` with the test secret, issuer and audience (valid for an hour unless overridden). */
export function hsToken(
  sub: string,
  claims: JWTPayload = {},
  { secret = JWT_SECRET, expiresIn = '1h' as string | number } = {},
): Promise<string> {
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}

/** A signing key of the identity provider: its private half, and the public JWK the key set publishes. */
export interface SigningKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: CryptoKey;
  publicJwk: JWK;
  /** The public key in PEM (SPKI), as an attacker would find it, for algorithm-confusion attempts. */
  publicPem: string;
}

export async function signingKey(kid: string, alg: 'RS256' | 'ES256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  const spki = Buffer.from(await crypto.subtle.exportKey('spki', publicKey)).toString('base64');
  const publicPem = `-----BEGIN PUBLIC KEY-----\n${spki.match(/.{1,64}/g)!.join('\n')}\n-----END PUBLIC KEY-----\n`;
  return { kid, alg, privateKey, publicJwk, publicPem };
}

/** Mints a token signed by `key` (its `kid` in the header). */
export function keyToken(key: SigningKey, sub: string, claims: JWTPayload = {}): Promise<string> {
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid })
    .setSubject(sub)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(key.privateKey);
}

/** A JSON Web Key Set served over HTTP, whose keys can be rotated; counts how often it was fetched. */
export interface JwksServer {
  url: string;
  fetches: number;
  publish(keys: SigningKey[]): void;
  close(): Promise<void>;
}

export async function startJwksServer(keys: SigningKey[]): Promise<JwksServer> {
  let body = '';
  const jwks: JwksServer = {
    url: '',
    fetches: 0,
    publish: (next) => {
      body = JSON.stringify({ keys: next.map((key) => key.publicJwk) });
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  jwks.publish(keys);
  const server: Server = createServer((_req, res) => {
    jwks.fetches += 1;
    res.setHeader('Content-Type', 'application/json');
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  jwks.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  return jwks;
}

export type ConnectError = Error & { data?: { code?: string; message?: string } };
export type Attempt = { session: SessionInfo } | { refused: ConnectError };

/** Tries one Socket.IO handshake and reports its session or its connect_error; the socket is closed after. */
export async function tryConnect(
  url: string,
  options: Partial<ManagerOptions & SocketOptions> = {},
): Promise<Attempt> {
  const socket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true, ...options });
  try {
    return await withTimeout(
      new Promise<Attempt>((resolve) => {
        socket.once('session', (session: SessionInfo) => resolve({ session }));
        socket.once('connect_error', (error: ConnectError) => resolve({ refused: error }));
      }),
      5_000,
      `handshake with ${url}`,
    );
  } finally {
    socket.disconnect();
  }
}

/** What a handshake came to: the session's user, or the refusal's code and message. */
export function answerOf(attempt: Attempt): unknown {
  return 'session' in attempt ? { user: attempt.session.user } : attempt.refused.data;
}
