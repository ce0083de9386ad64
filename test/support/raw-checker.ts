/**
 * Per-connection checks of what gateways put on the wire, judged before any client-side dedupe can hide it.
 * A client that drops a repeated (room, seq) makes a gateway that sends it twice look healthy to every check
 * of what the application saw; these look at each connection's raw arrivals instead.
 *
 * Per connection (socket id) and room, in arrival order:
 *
 * - **Duplicates.** A (room, epoch, seq) arrives at most once on a connection, counting its live `message`
 *   events and the history of its `room:join` acks. One exception: a join sent for a room the connection has
 *   already joined (the SDK rejoins on the same connection after an epoch change or a gap it could not fill)
 *   asks for history again, so that ack may repeat what the connection had; live events after it may not.
 *   A resume on a new connection replaying history is a new connection, hence never a duplicate here.
 * - **Live order.** Each live event's seq is above every seq the connection already has of that room and
 *   epoch (from live events and join acks), and a join ack's history ascends within an epoch.
 * - **Resumes.** A join answered `recovered: true` continues exactly from its `since`: the same epoch, then
 *   seqs since.seq + 1, since.seq + 2, … with no hole and nothing the client already had.
 *
 * Acks are recorded when their promise settles, so a live event read in the same chunk as an ack can be
 * recorded before it. That can hide a repeat right after a same-connection rejoin, never invent one.
 */

import type { Anomaly } from './checker';
import type { RawRecord } from './delivery-history';

export interface RawFindings {
  /** A (room, epoch, seq) that arrived twice on one connection (see the file comment). */
  rawDuplicates: Anomaly[];
  /** A live seq at or below one the connection already had, or a join ack whose history goes backwards. */
  rawOutOfOrder: Anomaly[];
  /** A `recovered: true` join whose history does not continue exactly from its `since`. */
  rawBadResumes: Anomaly[];
  /** Messages that arrived raw: live events plus join-ack history entries. */
  rawDeliveries: number;
}

/** Checks raw arrivals per connection and room; see the file comment for the rules. */
export function checkRaw(records: readonly RawRecord[]): RawFindings {
  const findings: RawFindings = { rawDuplicates: [], rawOutOfOrder: [], rawBadResumes: [], rawDeliveries: 0 };
  const streams = new Map<string, RawRecord[]>();
  for (const record of [...records].sort((a, b) => a.order - b.order)) {
    const key = JSON.stringify([record.client, record.connection, record.room]);
    const stream = streams.get(key);
    if (stream) stream.push(record);
    else streams.set(key, [record]);
  }
  for (const stream of streams.values()) checkStream(stream, findings);
  return findings;
}

/** One connection's arrivals in one room, oldest first. */
function checkStream(stream: RawRecord[], findings: RawFindings): void {
  const have = new Map<string, Set<number>>();
  const top = new Map<string, number>();
  const seqsOf = (epoch: string) => {
    let seqs = have.get(epoch);
    if (!seqs) {
      seqs = new Set();
      have.set(epoch, seqs);
    }
    return seqs;
  };
  const take = (epoch: string, seq: number) => {
    seqsOf(epoch).add(seq);
    top.set(epoch, Math.max(top.get(epoch) ?? 0, seq));
  };
  let joined = false;

  for (const record of stream) {
    const where = { room: record.room, client: record.client, connection: record.connection };
    if (record.kind === 'live') {
      findings.rawDeliveries += 1;
      const { epoch, seq, text } = record;
      if (seqsOf(epoch).has(seq)) {
        findings.rawDuplicates.push({
          ...where,
          epoch,
          seq,
          text,
          detail: 'live, already had on this connection',
        });
        continue;
      }
      const max = top.get(epoch);
      if (max !== undefined && seq < max) {
        findings.rawOutOfOrder.push({ ...where, epoch, seq, text, detail: `live after seq ${max}` });
      }
      take(epoch, seq);
      continue;
    }

    findings.rawDeliveries += record.history.length;
    if (record.recovered === true) checkResume(record, findings);
    const inThisAck = new Set<string>();
    let previous: { epoch: string; seq: number } | undefined;
    for (const { epoch, seq, text } of record.history) {
      const key = `${epoch}:${seq}`;
      if (inThisAck.has(key) || (!joined && seqsOf(epoch).has(seq))) {
        const detail = inThisAck.has(key)
          ? 'twice in one join ack'
          : 'in a join ack, already had on this connection';
        findings.rawDuplicates.push({ ...where, epoch, seq, text, detail });
        continue;
      }
      inThisAck.add(key);
      if (previous && previous.epoch === epoch && seq < previous.seq) {
        findings.rawOutOfOrder.push({
          ...where,
          epoch,
          seq,
          text,
          detail: `join ack history after seq ${previous.seq}`,
        });
      }
      previous = { epoch, seq };
      take(epoch, seq);
    }
    joined = true;
  }
}

function checkResume(record: Extract<RawRecord, { kind: 'join' }>, findings: RawFindings): void {
  const where = { room: record.room, client: record.client, connection: record.connection };
  const { since } = record;
  if (!since) {
    findings.rawBadResumes.push({ ...where, epoch: record.epoch, detail: 'recovered without since' });
    return;
  }
  if (record.epoch !== since.epoch) {
    findings.rawBadResumes.push({
      ...where,
      epoch: record.epoch,
      detail: `recovered into epoch ${record.epoch} from ${since.epoch}:${since.seq}`,
    });
    return;
  }
  record.history.some((m, i) => {
    const expected = since.seq + 1 + i;
    if (m.epoch === since.epoch && m.seq === expected) return false;
    findings.rawBadResumes.push({
      ...where,
      epoch: m.epoch,
      seq: m.seq,
      text: m.text,
      detail: `recovered from ${since.epoch}:${since.seq}, expected ${since.epoch}:${expected} here`,
    });
    return true;
  });
}
