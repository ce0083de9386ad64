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

describe('RoomSequence, at its edges', () => {
  it('takes the epoch of the first message when it starts from nothing, and holds to it', () => {
    const s = new RoomSequence();
    expect(s.accept(msg(1))).toEqual({ kind: 'deliver', messages: [msg(1)] });
    expect(s.epoch).toBe('e1');
    expect(s.accept(msg(2, 'e2'))).toEqual({ kind: 'epoch-changed' });
    expect(s.accept(msg(2))).toEqual({ kind: 'deliver', messages: [msg(2)] });
  });

  it('reports the gap up to the lowest message held, whatever order they came in', () => {
    const s = new RoomSequence();
    s.reset('e1', 1);
    expect(s.accept(msg(7))).toEqual({ kind: 'gap', from: 2, to: 6 });
    expect(s.accept(msg(4))).toEqual({ kind: 'gap', from: 2, to: 3 });
    expect(s.accept(msg(9))).toEqual({ kind: 'gap', from: 2, to: 3 });
    expect(s.missing()).toEqual({ from: 2, to: 3 });
    expect(s.accept(msg(2))).toEqual({ kind: 'deliver', messages: [msg(2)] });
    expect(s.accept(msg(3))).toEqual({ kind: 'deliver', messages: [msg(3), msg(4)] });
    expect(s.missing()).toEqual({ from: 5, to: 6 });
    expect(s.accept(msg(5))).toEqual({ kind: 'deliver', messages: [msg(5)] });
    expect(s.accept(msg(6))).toEqual({ kind: 'deliver', messages: [msg(6), msg(7)] });
    expect(s.missing()).toEqual({ from: 8, to: 8 });
    expect(s.last).toBe(7);
  });

  it('treats the message right after the last as next, and the last itself as a duplicate', () => {
    const s = new RoomSequence();
    s.reset('e1', 5);
    expect(s.accept(msg(5))).toEqual({ kind: 'duplicate' });
    expect(s.accept(msg(3))).toEqual({ kind: 'duplicate' });
    expect(s.accept(msg(6))).toEqual({ kind: 'deliver', messages: [msg(6)] });
    expect(s.missing()).toBeUndefined();
  });

  it('drops what it held when it starts over', () => {
    const s = new RoomSequence();
    s.reset('e1', 0);
    expect(s.accept(msg(3))).toEqual({ kind: 'gap', from: 1, to: 2 });
    s.reset('e2', 10);
    expect(s.missing()).toBeUndefined();
    expect(s.epoch).toBe('e2');
    expect(s.accept(msg(11, 'e2'))).toEqual({ kind: 'deliver', messages: [msg(11, 'e2')] });
  });
});
