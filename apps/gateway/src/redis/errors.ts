import { ChorusError } from '@chorus/protocol';
import { ReplyError } from 'ioredis';

/**
 * Runs a Redis operation, turning connection trouble (refused, closed, timed out, offline) into
 * `UNAVAILABLE` so the client hears at once that nothing happened and it may retry.
 * A `ReplyError` is Redis rejecting the command itself: a bug, reported as `INTERNAL`.
 */
export async function withRedis<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof ChorusError || error instanceof ReplyError) throw error;
    throw new ChorusError('UNAVAILABLE', 'storage is unavailable, retry later');
  }
}
