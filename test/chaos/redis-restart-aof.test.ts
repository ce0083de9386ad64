import type { Ack, MessageSendResult } from '@chorus/protocol';
import { describe, expect, it } from 'vitest';
import { expectGuarantee, startChaosRun, useChaosRedis } from '../support/chaos';
import { printReport } from '../support/checker';
import { connectClient } from '../support/clients';
import { chatFor, quiesce } from '../support/participants';
import { startRedisServer } from '../support/redis';
import { sleep } from '../support/wait';

const ROOMS = 4;

// Always a private server: the test kills and restarts it, which a shared REDIS_URL must never see.
const redis = useChaosRedis(() => startRedisServer({ appendOnly: true }));

describe('Redis restarted with an append-only file mid-run', () => {
  it('keeps every acknowledged message and the epoch, and answers sends during the outage UNAVAILABLE', async () => {
    const startedAt = Date.now();
    const { urls, history, everyone } = await startChaosRun(redis.server.url, {
      sdk: 24,
      raw: 4,
      rooms: ROOMS,
    });
    const probe = await connectClient(urls[0]!, { name: 'probe' });
    await probe.ok('room:join', { room: 'probe' });

    const load = chatFor(everyone, 8_000, { intervalMs: 400 });
    await sleep(2_500);
    const restarted = redis.server.restart!({ downMs: 1_500 });
    await sleep(500);
    // During the outage a send is refused at once, never acknowledged and never left unanswered.
    const askedAt = Date.now();
    const during = (await probe.request('message:send', {
      room: 'probe',
      text: 'during the outage',
      clientMsgId: 'probe-1',
    })) as Ack<MessageSendResult>;
    const answeredIn = Date.now() - askedAt;
    await restarted;
    await load;
    await quiesce(history, everyone, { timeoutMs: 20_000 });

    const report = history.check();
    const epochs = new Set(
      history.sends.flatMap((s) => (s.outcome.kind === 'acked' ? [`${s.room}:${s.outcome.epoch}`] : [])),
    );
    printReport('Redis restart with AOF (3 processes, 24 SDK + 4 raw clients, 4 rooms)', report, {
      outage: during.ok ? 'ok' : during.error.code,
      answeredMs: answeredIn,
      runtime: `${((Date.now() - startedAt) / 1000).toFixed(1)}s`,
    });
    expect(during).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE' } });
    expect(answeredIn).toBeLessThan(4_000);
    expectGuarantee(report);
    expect(report.totals.pending + report.totals.failed + report.totals.timedOut, 'unsettled sends').toBe(0);
    expect(report.totals.resets).toBe(0);
    // One epoch per room across the restart: the history survived.
    expect(epochs.size).toBe(ROOMS);
  }, 60_000);
});
