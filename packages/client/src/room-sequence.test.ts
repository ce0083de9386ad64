import type { ChatMessage } from '@chorus/protocol';
import { describe, expect, it } from 'vitest';
import { RoomSequence } from './room-sequence';

const msg = (seq: number, epoch = 'e1'): ChatMessage => ({
  id: `${epoch}:${seq}`,
  room: 'r',
  epoch,
  seq,
  user: { id: 'u', name: 'n' },
  text: `m${seq}`,
  ts: 0,
});

describe('RoomSequence', () => {
  it('delivers in order and drops duplicates', () => {
    const s = new RoomSequence();
    s.reset('e1', 0);
    expect(s.accept(msg(1))).toEqual({ kind: 'deliver', messages: [msg(1)] });
    expect(s.accept(msg(1))).toEqual({ kind: 'duplicate' });
    expect(s.accept(msg(2))).toEqual({ kind: 'deliver', messages: [msg(2)] });
  });

  it('holds messages behind a gap and releases them in order once it is filled', () => {
    const s = new RoomSequence();
    s.reset('e1', 1);
    expect(s.accept(msg(4))).toEqual({ kind: 'gap', from: 2, to: 3 });
    expect(s.accept(msg(4))).toEqual({ kind: 'duplicate' });
    expect(s.missing()).toEqual({ from: 2, to: 3 });
    expect(s.accept(msg(2))).toEqual({ kind: 'deliver', messages: [msg(2)] });
    expect(s.accept(msg(3))).toEqual({ kind: 'deliver', messages: [msg(3), msg(4)] });
    expect(s.missing()).toBeUndefined();
    expect(s.last).toBe(4);
  });

  it('reports a message of another epoch instead of delivering it', () => {
    const s = new RoomSequence();
    s.reset('e1', 10);
    expect(s.accept(msg(1, 'e2'))).toEqual({ kind: 'epoch-changed' });
    expect(s.last).toBe(10);
  });
});
