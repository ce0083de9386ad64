/**
 * A history checker for chat delivery under faults, in the style of Jepsen's total-queue checker: the test
 * records what each sender was told and what each member's application saw, and `check` compares the two
 * against the delivery guarantee:
 *
 * For every message whose sender got `{ ok: true }`, every member who was in the room from before the send
 * until the end of the run receives it exactly once (after client-side dedupe on (room, seq)); all members
 * agree on each seq's content; nobody receives a message that was never sent; a send whose ack never came
 * appears at most once.
 *
 * Texts must be unique per logical send (the checker identifies a send by its text), so a delivery can be
 * traced back to the attempt that produced it.
 *
 * What the application saw has passed the client's dedupe, which hides a gateway that sends twice; so the
 * raw arrivals of every connection are checked too (`raw-checker.ts`): no (room, epoch, seq) twice on one
 * connection, live seqs ascending per connection, resumes that continue exactly from `since`.
 */

import type {
  Delivery,
  DeliveryHistory,
  Membership,
  RawRecord,
  ResetRecord,
  SendRecord,
} from './delivery-history';
import { checkRaw } from './raw-checker';

/** A finding, with enough detail to find it in the logs. */
export interface Anomaly {
  room: string;
  client?: string;
  /** The socket id, for findings about one connection's raw arrivals. */
  connection?: string;
  epoch?: string;
  seq?: number;
  text?: string;
  detail?: string;
}

export interface RoomReport {
  room: string;
  sends: number;
  acked: number;
  failed: number;
  timedOut: number;
  pending: number;
  deliveries: number;
  lost: Anomaly[];
  duplicated: Anomaly[];
  unexpected: Anomaly[];
  disagreements: Anomaly[];
  outOfOrder: Anomaly[];
  /** Sends stored under more than one seq of the same epoch (whether acked or not). */
  storedTwice: Anomaly[];
  /** Missing seqs between the first and last a client received in an epoch, outside a reload. */
  gaps: Anomaly[];
  /** Messages a client's application saw after a reload that are not of the reloaded epoch. */
  stale: Anomaly[];
  /** A (room, epoch, seq) that arrived twice on one connection, before any dedupe (see `raw-checker.ts`). */
  rawDuplicates: Anomaly[];
  /** A live seq that did not ascend on its connection, before any reordering. */
  rawOutOfOrder: Anomaly[];
  /** A join answered `recovered: true` whose history does not continue exactly from its `since`. */
  rawBadResumes: Anomaly[];
  /** Messages that arrived raw on all connections: live events plus join-ack history entries. */
  rawDeliveries: number;
  resets: number;
}

export interface Report {
  rooms: RoomReport[];
  totals: Omit<RoomReport, 'room' | keyof Findings> & { [K in keyof Findings]: number };
  reconnects: { count: number; p50: number | undefined; p99: number | undefined; max: number | undefined };
  /** Up to a few examples of each kind of finding, for failure messages. */
  examples: Partial<Record<keyof Findings, Anomaly[]>>;
}

type Findings = Pick<
  RoomReport,
  | 'lost'
  | 'duplicated'
  | 'unexpected'
  | 'disagreements'
  | 'outOfOrder'
  | 'storedTwice'
  | 'gaps'
  | 'stale'
  | 'rawDuplicates'
  | 'rawOutOfOrder'
  | 'rawBadResumes'
>;

const FINDINGS: (keyof Findings)[] = [
  'lost',
  'duplicated',
  'unexpected',
  'disagreements',
  'outOfOrder',
  'storedTwice',
  'gaps',
  'stale',
  'rawDuplicates',
  'rawOutOfOrder',
  'rawBadResumes',
];

export interface CheckOptions {
  /**
   * A reload forgives what a client missed before it: with `true` (the default), a member whose history of a
   * room was reloaded only owes the sends that started after its last reload.
   */
  forgiveBeforeReset?: boolean;
}

type HistoryData = Pick<
  DeliveryHistory,
  'sends' | 'deliveries' | 'memberships' | 'resets' | 'reconnects' | 'raw'
>;

/** Checks a recorded history against the delivery guarantee; see the file comment. */
export function checkHistory(history: HistoryData, options: CheckOptions = {}): Report {
  const forgive = options.forgiveBeforeReset ?? true;
  const roomNames = new Set<string>();
  for (const s of history.sends) roomNames.add(s.room);
  for (const d of history.deliveries) roomNames.add(d.room);
  for (const m of history.memberships) roomNames.add(m.room);
  for (const r of history.raw) roomNames.add(r.room);

  const rooms = [...roomNames].sort().map((room) =>
    checkRoom(
      room,
      history.sends.filter((s) => s.room === room),
      history.deliveries.filter((d) => d.room === room),
      history.memberships.filter((m) => m.room === room),
      history.resets.filter((r) => r.room === room),
      history.raw.filter((r) => r.room === room),
      forgive,
    ),
  );

  const sum = (pick: (r: RoomReport) => number) => rooms.reduce((n, r) => n + pick(r), 0);
  const totals = {
    sends: sum((r) => r.sends),
    acked: sum((r) => r.acked),
    failed: sum((r) => r.failed),
    timedOut: sum((r) => r.timedOut),
    pending: sum((r) => r.pending),
    deliveries: sum((r) => r.deliveries),
    rawDeliveries: sum((r) => r.rawDeliveries),
    resets: sum((r) => r.resets),
  } as Report['totals'];
  const examples: Report['examples'] = {};
  for (const kind of FINDINGS) {
    totals[kind] = sum((r) => r[kind].length);
    const found = rooms.flatMap((r) => r[kind]);
    if (found.length > 0) examples[kind] = found.slice(0, 5);
  }
  const sorted = [...history.reconnects].sort((a, b) => a - b);
  return {
    rooms,
    totals,
    reconnects: {
      count: sorted.length,
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      max: sorted.at(-1),
    },
    examples,
  };
}

function checkRoom(
  room: string,
  sends: SendRecord[],
  deliveries: Delivery[],
  memberships: Membership[],
  resets: ResetRecord[],
  raw: RawRecord[],
  forgive: boolean,
): RoomReport {
  const report: RoomReport = {
    ...checkRaw(raw),
    room,
    sends: sends.length,
    acked: 0,
    failed: 0,
    timedOut: 0,
    pending: 0,
    deliveries: deliveries.length,
    lost: [],
    duplicated: [],
    unexpected: [],
    disagreements: [],
    outOfOrder: [],
    storedTwice: [],
    gaps: [],
    stale: [],
    resets: resets.length,
  };
  const sendByText = new Map<string, SendRecord>();
  for (const s of sends) {
    sendByText.set(s.text, s);
    if (s.outcome.kind === 'acked') report.acked += 1;
    else if (s.outcome.kind === 'failed') report.failed += 1;
    else if (s.outcome.kind === 'timeout') report.timedOut += 1;
    else report.pending += 1;
  }

  // What each position holds, as acks and deliveries say; and where each text was seen stored.
  const contentAt = new Map<string, Set<string>>();
  const positionsOf = new Map<string, Set<string>>();
  const see = (epoch: string, seq: number, text: string) => {
    const at = `${epoch}:${seq}`;
    entry(contentAt, at, () => new Set<string>()).add(text);
    entry(positionsOf, text, () => new Set<string>()).add(at);
  };
  for (const s of sends) if (s.outcome.kind === 'acked') see(s.outcome.epoch, s.outcome.seq, s.text);
  for (const d of deliveries) see(d.epoch, d.seq, d.text);
  for (const r of resets) for (const m of r.history) see(r.epoch, m.seq, m.text);

  for (const [at, texts] of contentAt) {
    if (texts.size > 1) {
      const [epoch = '', seq = ''] = splitPosition(at);
      report.disagreements.push({ room, epoch, seq: Number(seq), detail: [...texts].join(' | ') });
    }
  }
  for (const [text, positions] of positionsOf) {
    const byEpoch = new Map<string, string[]>();
    for (const at of positions) {
      const [epoch = ''] = splitPosition(at);
      byEpoch.set(epoch, [...(byEpoch.get(epoch) ?? []), at]);
    }
    for (const [epoch, ats] of byEpoch) {
      if (ats.length > 1) report.storedTwice.push({ room, epoch, text, detail: ats.sort().join(', ') });
    }
  }

  // Per client: unexpected, duplicated, out-of-order and gaps in what its handler saw.
  const byClient = groupBy(deliveries, (d) => d.client);
  const receivedBy = new Map<string, Set<string>>();
  for (const [client, seen] of byClient) {
    const keys = new Set<string>();
    receivedBy.set(client, keys);
    const maxSeq = new Map<string, number>();
    const seqsByEpoch = new Map<string, number[]>();
    for (const d of seen) {
      const source = sendByText.get(d.text);
      if (!source || (source.clientMsgId !== undefined && source.clientMsgId !== d.clientMsgId)) {
        report.unexpected.push({ room, client, epoch: d.epoch, seq: d.seq, text: d.text });
      }
      const key = `${d.epoch}:${d.seq}`;
      if (keys.has(key)) {
        report.duplicated.push({ room, client, epoch: d.epoch, seq: d.seq, text: d.text });
        continue;
      }
      keys.add(key);
      keys.add(`text:${d.text}`);
      const max = maxSeq.get(d.epoch);
      if (max !== undefined && d.seq <= max) {
        report.outOfOrder.push({ room, client, epoch: d.epoch, seq: d.seq, detail: `after seq ${max}` });
      }
      maxSeq.set(d.epoch, Math.max(max ?? 0, d.seq));
      seqsByEpoch.set(d.epoch, [...(seqsByEpoch.get(d.epoch) ?? []), d.seq]);
    }
    // A reload restarts the client's view; gaps are only counted between reloads.
    const clientResets = resets.filter((r) => r.client === client);
    // After a reload, everything the application sees belongs to the reloaded epoch (until the next reload).
    for (const d of seen) {
      const reload = clientResets.filter((r) => r.order < d.order).at(-1);
      if (reload && d.epoch !== reload.epoch) {
        report.stale.push({
          room,
          client,
          epoch: d.epoch,
          seq: d.seq,
          detail: `after reload to ${reload.epoch}`,
        });
      }
    }
    for (const [epoch, seqs] of seqsByEpoch) {
      const reloadedFrom = clientResets
        .filter((r) => r.epoch === epoch)
        .map((r) => r.history.at(-1)?.seq ?? 0)
        .sort((a, b) => a - b);
      const sorted = [...new Set(seqs)].sort((a, b) => a - b);
      for (let i = 1; i < sorted.length; i++) {
        const prev = sorted[i - 1]!;
        const cur = sorted[i]!;
        if (cur === prev + 1) continue;
        if (reloadedFrom.some((from) => from >= prev && from < cur)) continue;
        report.gaps.push({ room, client, epoch, seq: prev + 1, detail: `missing ${prev + 1}..${cur - 1}` });
      }
    }
  }

  // Lost: acked, and a member from before the send until the end did not see it.
  for (const s of sends) {
    if (s.outcome.kind !== 'acked') continue;
    const key = `${s.outcome.epoch}:${s.outcome.seq}`;
    for (const m of memberships) {
      if (m.from > s.startedAt || m.to !== undefined) continue;
      if (forgive) {
        const lastReset = resets
          .filter((r) => r.client === m.client)
          .reduce((t, r) => Math.max(t, r.at), Number.NEGATIVE_INFINITY);
        if (lastReset >= s.startedAt) continue;
      }
      const keys = receivedBy.get(m.client);
      if (!keys?.has(key)) {
        report.lost.push({
          room,
          client: m.client,
          epoch: s.outcome.epoch,
          seq: s.outcome.seq,
          text: s.text,
          detail: keys?.has(`text:${s.text}`) ? 'received under another seq' : undefined,
        });
      }
    }
  }
  return report;
}

function splitPosition(at: string): [string, string] {
  const i = at.lastIndexOf(':');
  return [at.slice(0, i), at.slice(i + 1)];
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) entry(out, key(item), () => [] as T[]).push(item);
  return out;
}

/** The value of `key` in `map`, created with `make` when missing. */
function entry<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  const found = map.get(key);
  if (found !== undefined) return found;
  const made = make();
  map.set(key, made);
  return made;
}

/** Nearest-rank percentile of ascending `sorted`. */
export function percentile(sorted: number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length)));
  return sorted[rank - 1];
}

/**
 * One line per scenario for CI logs: the counts of every finding, what was sent and delivered, and the
 * reconnect-to-caught-up percentiles.
 */
export function formatReport(scenario: string, report: Report, extra: Record<string, string | number> = {}) {
  const t = report.totals;
  const ms = (v: number | undefined) => (v === undefined ? '-' : `${Math.round(v)}ms`);
  const cells: [string, string | number][] = [
    ['sends', t.sends],
    ['acked', t.acked],
    ['failed', t.failed],
    ['timeout', t.timedOut],
    ['pending', t.pending],
    ['delivered', t.deliveries],
    ['lost', t.lost],
    ['dup', t.duplicated],
    ['unexpected', t.unexpected],
    ['disagree', t.disagreements],
    ['ooo', t.outOfOrder],
    ['stored2x', t.storedTwice],
    ['gaps', t.gaps],
    ['stale', t.stale],
    ['raw', t.rawDeliveries],
    ['rawDup', t.rawDuplicates],
    ['rawOoo', t.rawOutOfOrder],
    ['badResume', t.rawBadResumes],
    ['resets', t.resets],
    ['reconnects', report.reconnects.count],
    ['p50', ms(report.reconnects.p50)],
    ['p99', ms(report.reconnects.p99)],
    ...Object.entries(extra),
  ];
  const header = cells.map(([k, v]) => k.padStart(Math.max(k.length, String(v).length))).join(' ');
  const row = cells.map(([k, v]) => String(v).padStart(Math.max(k.length, String(v).length))).join(' ');
  const examples = Object.entries(report.examples)
    .map(([kind, found]) => `  ${kind}: ${JSON.stringify(found)}`)
    .join('\n');
  return `[chaos] ${scenario}\n  ${header}\n  ${row}${examples ? `\n${examples}` : ''}`;
}

/** Prints `formatReport` with console.log, so the counts land in CI logs. */
export function printReport(scenario: string, report: Report, extra: Record<string, string | number> = {}) {
  console.log(formatReport(scenario, report, extra));
}
