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
  it('shows a sent message once when its ack and its live copy both arrive', () => {
    const timeline = new Timeline();
    expect(timeline.add([msg(1)])).toEqual({ reset: false, added: [msg(1)] });
    expect(timeline.add([msg(1)])).toEqual({ reset: false, added: [] });
    expect(seqs(timeline)).toEqual([1]);
  });

  it('keeps messages in seq order whatever order they arrive in', () => {
    const timeline = new Timeline();
    for (const seq of [3, 1, 2]) timeline.add([msg(seq)]);
    expect(seqs(timeline)).toEqual([1, 2, 3]);
  });

  it('merges a join history read after the messages that followed it', () => {
    const timeline = new Timeline();
    timeline.add([msg(3)]);
    expect(timeline.add([msg(2), msg(1), msg(3)]).added.map((m) => m.seq)).toEqual([1, 2]);
    expect(seqs(timeline)).toEqual([1, 2, 3]);
  });

  it('replaces what it showed when the room history was reset', () => {
    const timeline = new Timeline();
    timeline.add([msg(1), msg(2), msg(3)]);
    const change = timeline.replace([msg(2, 'e2'), msg(1, 'e2')]);
    expect(change).toEqual({ reset: true, added: [msg(1, 'e2'), msg(2, 'e2')] });
    expect(timeline.messages()).toEqual([msg(1, 'e2'), msg(2, 'e2')]);
  });
});
