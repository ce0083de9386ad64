import type { ChatMessage } from '@chorus/protocol';
import { describe, expect, it } from 'vitest';
import { Timeline } from './timeline';

const msg = (seq: number, epoch = 'e1'): ChatMessage => ({
  id: `${epoch}:${seq}`,
  room: 'lobby',
  epoch,
  seq,
  user: { id: 'u-1', name: 'alice' },
  text: `m${seq}`,
  ts: 1_700_000_000_000 + seq,
});
const seqs = (timeline: Timeline) => timeline.messages().map((m) => m.seq);

describe('Timeline', () => {
  it('shows a message that arrives in the join history and again live once', () => {
    const timeline = new Timeline();
    timeline.beginSync();
    timeline.sync('e1', [msg(1), msg(2)], { replace: true });
    expect(timeline.add(msg(2))).toBe('duplicate');
    expect(timeline.add(msg(3))).toBe('added');
    expect(seqs(timeline)).toEqual([1, 2, 3]);
    expect(timeline.lastSeq).toBe(3);
  });

  it('keeps messages in seq order whatever order they arrive in', () => {
    const timeline = new Timeline();
    timeline.sync('e1', [], { replace: true });
    for (const seq of [3, 1, 2]) timeline.add(msg(seq));
    expect(seqs(timeline)).toEqual([1, 2, 3]);
  });

  it('holds live messages while a join is in flight and merges them with its history', () => {
    const timeline = new Timeline();
    timeline.beginSync();
    expect(timeline.add(msg(3))).toBe('deferred');
    expect(timeline.add(msg(2))).toBe('deferred');
    const result = timeline.sync('e1', [msg(1), msg(2)], { replace: true });
    expect(result.reset).toBe(true);
    expect(result.added.map((m) => m.seq)).toEqual([1, 2, 3]);
  });

  it('continues from where it was when a resume is recovered', () => {
    const timeline = new Timeline();
    timeline.sync('e1', [msg(1), msg(2)], { replace: true });
    timeline.beginSync();
    const result = timeline.sync('e1', [msg(3), msg(4)], { replace: false });
    expect(result).toEqual({ reset: false, added: [msg(3), msg(4)] });
    expect(seqs(timeline)).toEqual([1, 2, 3, 4]);
  });

  it('replaces what it showed when the server could not continue', () => {
    const timeline = new Timeline();
    timeline.sync('e1', [msg(1), msg(2)], { replace: true });
    timeline.beginSync();
    const result = timeline.sync('e1', [msg(90), msg(91)], { replace: true });
    expect(result.reset).toBe(true);
    expect(seqs(timeline)).toEqual([90, 91]);
  });

  it('asks for a resync when a message of another epoch arrives, and keeps it for the new history', () => {
    const timeline = new Timeline();
    timeline.sync('e1', [msg(1), msg(2)], { replace: true });
    expect(timeline.add(msg(2, 'e2'))).toBe('resync');
    timeline.beginSync();
    timeline.sync('e2', [msg(1, 'e2')], { replace: true });
    expect(timeline.epoch).toBe('e2');
    expect(timeline.messages()).toEqual([msg(1, 'e2'), msg(2, 'e2')]);
  });

  it('shows held messages of the current epoch when a join fails', () => {
    const timeline = new Timeline();
    timeline.sync('e1', [msg(1)], { replace: true });
    timeline.beginSync();
    timeline.add(msg(2));
    expect(timeline.abortSync()).toEqual([msg(2)]);
    expect(timeline.add(msg(3))).toBe('added');
  });
});
