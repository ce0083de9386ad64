import { describe, expect, it } from 'vitest';
import { formatReport, percentile } from './checker';
import { DeliveryHistory } from './delivery-history';

/** A history with a fake clock: each call to the clock moves time on by 1 ms. */
function history() {
  let now = 0;
  return new DeliveryHistory(() => ++now);
}

const E = 'e1';
const msg = (seq: number, text: string, room = 'r', epoch = E) => ({
  room,
  epoch,
  seq,
  text,
  clientMsgId: `id-${text}`,
});

/** Alice and Bob join `r`; Alice sends a, b, c, acked as seq 1, 2, 3. */
function threeAcked() {
  const h = history();
  h.joined('alice', 'r');
  h.joined('bob', 'r');
  ['a', 'b', 'c'].forEach((text, i) => {
    h.send('alice', 'r', text, `id-${text}`).acked({ epoch: E, seq: i + 1 });
  });
  return h;
}

function deliverAll(h: DeliveryHistory, client: string, seqs: [number, string][]) {
  for (const [seq, text] of seqs) h.deliver(client, msg(seq, text));
}

describe('delivery checker', () => {
  it('finds nothing wrong in a clean history', () => {
    const h = threeAcked();
    for (const client of ['alice', 'bob'])
      deliverAll(h, client, [
        [1, 'a'],
        [2, 'b'],
        [3, 'c'],
      ]);

    const report = h.check();

    expect(report.totals).toMatchObject({ sends: 3, acked: 3, deliveries: 6, lost: 0, duplicated: 0 });
    expect(report.totals).toMatchObject({ unexpected: 0, disagreements: 0, outOfOrder: 0, gaps: 0 });
    expect(report.totals.storedTwice).toBe(0);
    expect(report.examples).toEqual({});
  });

  it('counts an acked message a member never received as lost', () => {
    const h = threeAcked();
    deliverAll(h, 'alice', [
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
    ]);
    deliverAll(h, 'bob', [
      [1, 'a'],
      [3, 'c'],
    ]);

    const report = h.check();

    expect(report.totals.lost).toBe(1);
    expect(report.examples.lost).toEqual([expect.objectContaining({ client: 'bob', seq: 2, text: 'b' })]);
    expect(report.totals.gaps).toBe(1);
  });

  it('does not owe a message to a member who joined after it was sent', () => {
    const h = history();
    h.joined('alice', 'r');
    h.send('alice', 'r', 'a', 'id-a').acked({ epoch: E, seq: 1 });
    h.joined('bob', 'r');
    h.deliver('alice', msg(1, 'a'));

    expect(h.check().totals.lost).toBe(0);
  });

  it('does not owe a message to a member who left before the end', () => {
    const h = history();
    h.joined('alice', 'r');
    h.joined('bob', 'r');
    h.send('alice', 'r', 'a', 'id-a').acked({ epoch: E, seq: 1 });
    h.left('bob', 'r');
    h.deliver('alice', msg(1, 'a'));

    expect(h.check().totals.lost).toBe(0);
  });

  it('counts a seq the application saw twice as duplicated', () => {
    const h = threeAcked();
    deliverAll(h, 'alice', [
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
    ]);
    deliverAll(h, 'bob', [
      [1, 'a'],
      [2, 'b'],
      [2, 'b'],
      [3, 'c'],
    ]);

    const report = h.check();

    expect(report.totals.duplicated).toBe(1);
    expect(report.examples.duplicated).toEqual([expect.objectContaining({ client: 'bob', seq: 2 })]);
    expect(report.totals.outOfOrder).toBe(0);
    expect(report.totals.lost).toBe(0);
  });

  it('counts a message nobody sent as unexpected', () => {
    const h = threeAcked();
    deliverAll(h, 'bob', [
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
      [4, 'ghost'],
    ]);

    const report = h.check();

    expect(report.totals.unexpected).toBe(1);
    expect(report.examples.unexpected).toEqual([expect.objectContaining({ client: 'bob', text: 'ghost' })]);
  });

  it('counts a seq that goes backwards within an epoch as out of order', () => {
    const h = threeAcked();
    deliverAll(h, 'alice', [
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
    ]);
    deliverAll(h, 'bob', [
      [1, 'a'],
      [3, 'c'],
      [2, 'b'],
    ]);

    const report = h.check();

    expect(report.totals.outOfOrder).toBe(1);
    expect(report.examples.outOfOrder).toEqual([expect.objectContaining({ client: 'bob', seq: 2 })]);
    expect(report.totals.duplicated).toBe(0);
    expect(report.totals.lost).toBe(0);
  });

  it('does not count a new epoch starting again from seq 1 as out of order', () => {
    const h = history();
    h.joined('bob', 'r');
    h.send('alice', 'r', 'a', 'id-a').acked({ epoch: 'e1', seq: 5 });
    h.send('alice', 'r', 'b', 'id-b').acked({ epoch: 'e2', seq: 1 });
    h.deliver('bob', msg(5, 'a', 'r', 'e1'));
    h.deliver('bob', msg(1, 'b', 'r', 'e2'));

    expect(h.check().totals).toMatchObject({ outOfOrder: 0, lost: 0, gaps: 0 });
  });

  it('counts two members seeing different content at one seq as a disagreement', () => {
    const h = history();
    h.joined('alice', 'r');
    h.joined('bob', 'r');
    h.send('alice', 'r', 'a', 'id-a').acked({ epoch: E, seq: 1 });
    h.send('bob', 'r', 'b', 'id-b').timedOut();
    h.deliver('alice', msg(1, 'a'));
    h.deliver('bob', msg(1, 'b'));

    const report = h.check();

    expect(report.totals.disagreements).toBe(1);
    expect(report.examples.disagreements?.[0]?.detail).toBe('a | b');
  });

  it('counts a send that was never acked but appears under two seqs as stored twice', () => {
    const h = history();
    h.joined('bob', 'r');
    h.send('alice', 'r', 'a', 'id-a').timedOut();
    h.deliver('bob', msg(1, 'a'));
    h.deliver('bob', msg(2, 'a'));

    const report = h.check();

    expect(report.totals.storedTwice).toBe(1);
    expect(report.totals.timedOut).toBe(1);
    expect(report.totals.duplicated).toBe(0);
  });

  it('treats a delivery carrying another clientMsgId than its send as unexpected', () => {
    const h = history();
    h.joined('bob', 'r');
    h.send('alice', 'r', 'a', 'id-a').acked({ epoch: E, seq: 1 });
    h.deliver('bob', { room: 'r', epoch: E, seq: 1, text: 'a', clientMsgId: 'forged' });

    expect(h.check().totals.unexpected).toBe(1);
  });

  it('forgives what a member missed before its history was reloaded, but not after', () => {
    const h = history();
    h.joined('bob', 'r');
    h.send('alice', 'r', 'a', 'id-a').acked({ epoch: E, seq: 1 });
    h.send('alice', 'r', 'b', 'id-b').acked({ epoch: E, seq: 2 });
    h.reset('bob', 'r', E, [msg(2, 'b')]);
    h.send('alice', 'r', 'c', 'id-c').acked({ epoch: E, seq: 3 });
    h.send('alice', 'r', 'd', 'id-d').acked({ epoch: E, seq: 4 });
    h.deliver('bob', msg(3, 'c'));

    const forgiving = h.check();
    expect(forgiving.totals.lost).toBe(1);
    expect(forgiving.examples.lost).toEqual([expect.objectContaining({ seq: 4 })]);
    expect(forgiving.totals.resets).toBe(1);

    expect(h.check({ forgiveBeforeReset: false }).totals.lost).toBe(3);
  });

  it('does not count the jump over a reload as a gap', () => {
    const h = history();
    h.joined('bob', 'r');
    h.send('alice', 'r', 'a', 'id-a').acked({ epoch: E, seq: 1 });
    h.send('alice', 'r', 'z', 'id-z').acked({ epoch: E, seq: 300 });
    h.send('alice', 'r', 'y', 'id-y').acked({ epoch: E, seq: 301 });
    h.deliver('bob', msg(1, 'a'));
    h.reset('bob', 'r', E, [msg(300, 'z')]);
    h.deliver('bob', msg(301, 'y'));

    expect(h.check().totals.gaps).toBe(0);
  });

  it('counts a message of the old epoch seen after a reload to the new one as stale', () => {
    const h = history();
    h.joined('bob', 'r');
    h.send('alice', 'r', 'a', 'id-a').acked({ epoch: 'e1', seq: 7 });
    h.send('alice', 'r', 'b', 'id-b').acked({ epoch: 'e2', seq: 1 });
    h.deliver('bob', msg(7, 'a', 'r', 'e1'));
    h.reset('bob', 'r', 'e2', []);
    h.deliver('bob', msg(1, 'b', 'r', 'e2'));
    expect(h.check().totals.stale).toBe(0);

    h.deliver('bob', msg(8, 'a-late', 'r', 'e1'));
    const report = h.check();
    expect(report.totals.stale).toBe(1);
    expect(report.examples.stale).toEqual([expect.objectContaining({ client: 'bob', epoch: 'e1', seq: 8 })]);
  });

  describe('on the wire, before any dedupe', () => {
    /** Bob's one connection `c1` joins `r` empty; then the live events `seqs` arrive on it. */
    function liveOnOneConnection(seqs: [number, string][]) {
      const h = threeAcked();
      h.rawJoin('bob', 'c1', { room: 'r', epoch: E, history: [] });
      for (const [seq, text] of seqs) h.rawMessage('bob', 'c1', msg(seq, text));
      return h;
    }

    it('counts a seq that arrived twice on one connection as a raw duplicate, though the application saw it once', () => {
      const h = liveOnOneConnection([
        [1, 'a'],
        [2, 'b'],
        [2, 'b'],
        [3, 'c'],
      ]);
      // The client deduped: its application saw each seq once, so every other check passes.
      for (const client of ['alice', 'bob'])
        deliverAll(h, client, [
          [1, 'a'],
          [2, 'b'],
          [3, 'c'],
        ]);

      const report = h.check();

      expect(report.totals).toMatchObject({ rawDuplicates: 1, rawOutOfOrder: 0, rawDeliveries: 4 });
      expect(report.examples.rawDuplicates).toEqual([
        expect.objectContaining({ client: 'bob', connection: 'c1', epoch: E, seq: 2, text: 'b' }),
      ]);
      expect(report.totals).toMatchObject({ duplicated: 0, outOfOrder: 0, lost: 0, gaps: 0 });
    });

    it('counts a live seq below one its connection already had as raw out of order', () => {
      const h = liveOnOneConnection([
        [1, 'a'],
        [3, 'c'],
        [2, 'b'],
      ]);
      deliverAll(h, 'bob', [
        [1, 'a'],
        [2, 'b'],
        [3, 'c'],
      ]);

      const report = h.check();

      expect(report.totals).toMatchObject({ rawOutOfOrder: 1, rawDuplicates: 0, outOfOrder: 0 });
      expect(report.examples.rawOutOfOrder).toEqual([
        expect.objectContaining({ client: 'bob', connection: 'c1', seq: 2, detail: 'live after seq 3' }),
      ]);
    });

    it('finds nothing wrong when each connection gets each seq once, in order', () => {
      const h = liveOnOneConnection([
        [1, 'a'],
        [2, 'b'],
        [3, 'c'],
      ]);
      // Another client's connection gets the same seqs: duplicates are per connection.
      h.rawJoin('alice', 'c9', { room: 'r', epoch: E, history: [] });
      for (const [seq, text] of [
        [1, 'a'],
        [2, 'b'],
        [3, 'c'],
      ] as const)
        h.rawMessage('alice', 'c9', msg(seq, text));

      expect(h.check().totals).toMatchObject({ rawDuplicates: 0, rawOutOfOrder: 0, rawBadResumes: 0 });
    });

    it('does not count a resume on a new connection replaying history as a duplicate', () => {
      const h = liveOnOneConnection([[1, 'a']]);
      // The connection drops; the new one resumes from seq 1 and the ack replays 2 and 3.
      h.rawJoin(
        'bob',
        'c2',
        { room: 'r', epoch: E, history: [msg(2, 'b'), msg(3, 'c')], recovered: true },
        {
          epoch: E,
          seq: 1,
        },
      );

      expect(h.check().totals).toMatchObject({ rawDuplicates: 0, rawOutOfOrder: 0, rawBadResumes: 0 });
    });

    it('counts a join ack repeating what its connection already got live as a raw duplicate', () => {
      const h = threeAcked();
      h.rawMessage('bob', 'c1', msg(2, 'b'));
      h.rawJoin('bob', 'c1', { room: 'r', epoch: E, history: [msg(1, 'a'), msg(2, 'b')] });
      h.rawMessage('bob', 'c1', msg(3, 'c'));

      const report = h.check();

      expect(report.totals.rawDuplicates).toBe(1);
      expect(report.examples.rawDuplicates?.[0]).toMatchObject({ seq: 2, connection: 'c1' });
    });

    it('lets a rejoin on the same connection repeat what it had, but not a live event after it', () => {
      const h = liveOnOneConnection([
        [1, 'a'],
        [2, 'b'],
      ]);
      // The client asked again on the same connection (as the SDK does after a gap it could not fill).
      h.rawJoin(
        'bob',
        'c1',
        { room: 'r', epoch: E, history: [msg(1, 'a'), msg(2, 'b')], recovered: false },
        {
          epoch: E,
          seq: 1,
        },
      );
      expect(h.check().totals).toMatchObject({ rawDuplicates: 0, rawOutOfOrder: 0 });

      h.rawMessage('bob', 'c1', msg(2, 'b'));
      expect(h.check().totals).toMatchObject({ rawDuplicates: 1, rawOutOfOrder: 0 });
    });

    it('counts a recovered resume that does not continue exactly from since as a bad resume', () => {
      const h = threeAcked();
      // Replays seq 1, which the client said it had.
      h.rawJoin(
        'bob',
        'c1',
        { room: 'r', epoch: E, history: [msg(1, 'a'), msg(2, 'b')], recovered: true },
        {
          epoch: E,
          seq: 1,
        },
      );
      // Skips seq 2.
      h.rawJoin(
        'alice',
        'c2',
        { room: 'r', epoch: E, history: [msg(3, 'c')], recovered: true },
        {
          epoch: E,
          seq: 1,
        },
      );
      // Crosses into another epoch instead of answering recovered: false.
      h.rawJoin(
        'carol',
        'c3',
        { room: 'r', epoch: 'e2', history: [], recovered: true },
        { epoch: E, seq: 3 },
      );
      // A reload may hold anything: not a resume.
      h.rawJoin(
        'dave',
        'c4',
        { room: 'r', epoch: E, history: [msg(1, 'a')], recovered: false },
        {
          epoch: E,
          seq: 3,
        },
      );

      const report = h.check();

      expect(report.totals.rawBadResumes).toBe(3);
      expect(report.rooms[0]?.rawBadResumes.map((a) => a.client)).toEqual(['bob', 'alice', 'carol']);
      expect(report.totals).toMatchObject({ rawDuplicates: 0, rawOutOfOrder: 0 });
    });

    it('prints the raw counts in the summary', () => {
      const h = liveOnOneConnection([
        [1, 'a'],
        [1, 'a'],
      ]);
      const text = formatReport('raw', h.check());

      expect(text).toMatch(/raw +rawDup +rawOoo +badResume/);
      expect(text.split('\n')[2]).toMatch(/ 2 +1 +0 +0 /);
      expect(text).toContain('rawDuplicates: [');
    });
  });

  it('reports reconnect percentiles and prints one table row per scenario', () => {
    const h = threeAcked();
    for (const ms of [100, 300, 200, 5_000]) h.reconnected(ms);

    const report = h.check();
    const text = formatReport('example', report);

    expect(report.reconnects).toEqual({ count: 4, p50: 200, p99: 5_000, max: 5_000 });
    expect(text).toContain('[chaos] example');
    expect(text).toMatch(/lost +dup/);
    expect(text.split('\n')[2]).toMatch(/ 200ms +5000ms$/);
    expect(percentile([], 0.5)).toBeUndefined();
  });
});
