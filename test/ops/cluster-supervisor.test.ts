import { describe, expect, it } from 'vitest';
import type { LocalGateway } from '../../scripts/local-cluster/gateway';
import { superviseGateways } from '../../scripts/local-cluster/supervisor';
import { eventually, sleep } from '../support/wait';

/** A gateway handle whose process the test kills by flipping `alive`. */
function gatewayHandle(nodeId: string, failStarts = 0) {
  let alive = true;
  let starts = 0;
  const handle = {
    nodeId,
    port: 1,
    url: 'http://127.0.0.1:1',
    running: () => alive,
    start: async () => {
      starts += 1;
      if (starts <= failStarts) throw new Error('port in use');
      alive = true;
    },
    stop: async () => ({ code: 0, signal: null }),
    kill: async () => ({ code: null, signal: 'SIGKILL' as const }),
    restart: async () => {},
  } satisfies LocalGateway;
  return { handle, die: () => (alive = false), starts: () => starts };
}

describe('npm run cluster supervises its gateways', () => {
  it('restarts a gateway that died, after a pause, and leaves running ones alone', async () => {
    const a = gatewayHandle('gw-1');
    const b = gatewayHandle('gw-2');
    const log: string[] = [];
    const supervisor = superviseGateways([a.handle, b.handle], (m) => log.push(m), { checkMs: 20 });
    try {
      a.die();
      await eventually(() => expect(a.handle.running()).toBe(true), { timeoutMs: 3_000 });
      expect(a.starts()).toBe(1);
      expect(b.starts()).toBe(0);
      expect(log).toEqual(['gw-1 exited; restarting it in 1 s', 'gw-1 restarted on http://127.0.0.1:1']);
    } finally {
      supervisor.stop();
    }
  });

  it('backs off while a gateway keeps failing to start', async () => {
    const a = gatewayHandle('gw-1', 1);
    const log: string[] = [];
    const supervisor = superviseGateways([a.handle], (m) => log.push(m), { checkMs: 20 });
    try {
      a.die();
      await eventually(() => expect(log).toContain('gw-1 failed to restart: port in use'), {
        timeoutMs: 3_000,
      });
      await eventually(() => expect(log).toContain('gw-1 exited; restarting it in 2 s'));
      await sleep(1_000);
      expect(a.starts()).toBe(1);
      await eventually(() => expect(a.handle.running()).toBe(true), { timeoutMs: 3_000 });
      expect(a.starts()).toBe(2);
    } finally {
      supervisor.stop();
    }
  });
});
