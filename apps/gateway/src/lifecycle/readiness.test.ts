import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, sleep } from '../../../../test/support/wait';
import { Readiness } from './readiness';

const logger = pino({ level: 'silent' });
const started: Readiness[] = [];
afterEach(() => {
  for (const r of started.splice(0)) r.stop();
});

function readiness(check: () => Promise<void>, graceMs: number) {
  const r = new Readiness({ check, logger, intervalMs: 20, graceMs });
  started.push(r);
  r.start();
  return r;
}

describe('Readiness', () => {
  it('stays ready through trouble shorter than the grace period, then reports it', async () => {
    let healthy = true;
    const r = readiness(async () => {
      if (!healthy) throw new Error('redis down');
    }, 300);
    await sleep(50);
    expect(r.state()).toEqual({ ready: true });
    healthy = false;
    await eventually(() => expect(r.state()).toEqual({ ready: true, reason: 'redis down' }));
    await eventually(() => expect(r.state()).toEqual({ ready: false, reason: 'redis down' }), {
      timeoutMs: 1_000,
    });
    healthy = true;
    await eventually(() => expect(r.state()).toEqual({ ready: true }));
  });

  it('counts a check that never answers as trouble once the grace period is over', async () => {
    const r = readiness(() => new Promise<void>(() => {}), 150);
    expect(r.state().ready).toBe(true);
    await eventually(() =>
      expect(r.state()).toEqual({ ready: false, reason: 'backing services do not answer' }),
    );
  });
});
