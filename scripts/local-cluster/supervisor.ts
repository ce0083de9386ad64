import type { LocalGateway } from './gateway';

export interface Supervisor {
  /** Stops watching (call before stopping the gateways on purpose). */
  stop(): void;
}

/**
 * Restarts any gateway that exits on its own, as systemd, Kubernetes or Docker would: after 1 s, then with a
 * doubling pause up to 30 s while it keeps dying, back to 1 s once it stayed up for a minute.
 */
export function superviseGateways(
  gateways: readonly LocalGateway[],
  log: (message: string) => void,
  { checkMs = 1_000 }: { checkMs?: number } = {},
): Supervisor {
  const state = new Map<
    LocalGateway,
    { backoffMs: number; nextAt: number; upSince: number; restarting: boolean }
  >();
  for (const gateway of gateways)
    state.set(gateway, { backoffMs: 1_000, nextAt: 0, upSince: Date.now(), restarting: false });
  const timer = setInterval(() => {
    const now = Date.now();
    for (const [gateway, s] of state) {
      if (s.restarting) continue;
      if (gateway.running()) {
        if (now - s.upSince > 60_000) s.backoffMs = 1_000;
        continue;
      }
      if (s.nextAt === 0) {
        s.nextAt = now + s.backoffMs;
        log(`${gateway.nodeId} exited; restarting it in ${s.backoffMs / 1000} s`);
        continue;
      }
      if (now < s.nextAt) continue;
      s.restarting = true;
      gateway.start().then(
        () => {
          log(`${gateway.nodeId} restarted on ${gateway.url}`);
          Object.assign(s, { restarting: false, nextAt: 0, upSince: Date.now() });
        },
        (error: unknown) => {
          log(`${gateway.nodeId} failed to restart: ${(error as Error).message.split('\n')[0]}`);
          Object.assign(s, { restarting: false, nextAt: 0, backoffMs: Math.min(s.backoffMs * 2, 30_000) });
        },
      );
    }
  }, checkMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
