import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';

/**
 * A check of `Authorization: Bearer <secret>`. Digests are compared, so the comparison takes the same time
 * whatever was sent (its length included).
 */
export function bearerCheck(secret: string): (req: Request) => boolean {
  const expected = digest(secret);
  return (req) => {
    const match = /^Bearer (\S+)$/.exec(req.get('authorization') ?? '');
    return match !== null && timingSafeEqual(digest(match[1]!), expected);
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
