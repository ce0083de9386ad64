import { describe, expect, it } from 'vitest';
import { parseCommandLine, UsageError } from './cli';
import { DEFAULT_SETTINGS } from './settings';

describe('the bench command line', () => {
  it('sizes the rejoin storm’s rooms with --storm-room-size, and keeps the default without it', () => {
    expect(parseCommandLine(['--storm-room-size', '300'])?.settings.rejoinStorm).toEqual({
      clients: DEFAULT_SETTINGS.rejoinStorm.clients,
      roomSize: 300,
    });
    expect(parseCommandLine([])?.settings.rejoinStorm.roomSize).toBe(DEFAULT_SETTINGS.rejoinStorm.roomSize);
  });

  it('refuses a room size that is not a positive whole number', () => {
    expect(() => parseCommandLine(['--storm-room-size', '0'])).toThrow(UsageError);
    expect(() => parseCommandLine(['--storm-room-size', 'big'])).toThrow(UsageError);
  });
});
