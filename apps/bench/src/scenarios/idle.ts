import { setTimeout as sleep } from 'node:timers/promises';
import { closeClients, connectClients } from '../client/connect';
import { fileLimitProblem } from '../measure/fd-limit';
import { rssBytes } from '../measure/heap';
import type { GatewayHandle } from '../targets/target';
import { type Scenario, ScenarioSkipped } from './scenario';

/** The smallest of `samples` heap readings a little apart: the reading with the least garbage in it. */
async function minHeap(gateway: GatewayHandle, samples: number): Promise<number | undefined> {
  let min: number | undefined;
  for (let i = 0; i < samples; i++) {
    if (i > 0) await sleep(200);
    const heap = await gateway.heapBytes().catch(() => undefined);
    if (heap === undefined) return undefined;
    min = min === undefined ? heap : Math.min(min, heap);
  }
  return min;
}

async function heapOfAll(gateways: readonly GatewayHandle[], samples: number): Promise<number | undefined> {
  let sum = 0;
  for (const gateway of gateways) {
    const heap = await minHeap(gateway, samples);
    if (heap === undefined) return undefined;
    sum += heap;
  }
  return sum;
}

function rssOfAll(gateways: readonly GatewayHandle[]): number | undefined {
  let sum = 0;
  for (const g of gateways) {
    const rss = g.pid === undefined ? undefined : rssBytes(g.pid);
    if (rss === undefined) return undefined;
    sum += rss;
  }
  return sum;
}

/**
 * N connections that do nothing, spread over the gateways: the memory a connection costs. Heap is read before
 * and after connecting (after a forced full GC where the server allows it, else the smallest of several
 * samples) and the difference divided by N.
 */
export const idle: Scenario = {
  id: 'idle',
  describe: (s) =>
    `${s.idle.connections} idle connections spread over the gateways; heap and RSS per connection`,
  layout: 'idle',
  headline: {
    key: 'extra.heapPerConnectionB',
    label: 'heap bytes per idle connection',
    higherIsBetter: false,
  },
  extraColumns: [],
  unsupported: () => undefined,
  async run(target, context) {
    const { connections } = context.settings.idle;
    // Without a forced GC, more samples give the minimum a better chance to fall right after a collection.
    const forcesGc = target.gateways.every((g) => g.forcesGc);
    const heapSamples = forcesGc
      ? context.settings.idle.heapSamples
      : Math.max(10, context.settings.idle.heapSamples);
    const limitProblem = fileLimitProblem(connections);
    if (limitProblem) throw new ScenarioSkipped(limitProblem);
    const urls = target.gateways.map((g) => g.url);
    // Let the previous run's disconnects be collected first.
    await sleep(context.settings.pauseMs);
    const heapBefore = await heapOfAll(target.gateways, heapSamples);
    const rssBefore = rssOfAll(target.gateways);
    const started = performance.now();
    const sockets = await connectClients(urls, connections, {
      onConnected: (n) => n % 500 === 0 && context.status(`connected ${n}/${connections}`),
    });
    const connectS = (performance.now() - started) / 1000;
    try {
      await sleep(context.settings.pauseMs);
      context.status(`${connections} connected; reading heap`);
      const heapAfter = await heapOfAll(target.gateways, heapSamples);
      const rssAfter = rssOfAll(target.gateways);
      const per = (a: number | undefined, b: number | undefined) =>
        a === undefined || b === undefined ? null : Math.round((b - a) / connections);
      return {
        windowS: Math.round(connectS * 1000) / 1000,
        sent: 0,
        acked: 0,
        failed: 0,
        delivered: 0,
        expected: 0,
        missing: 0,
        duplicates: 0,
        latencyMs: null,
        ackLatencyMs: null,
        cpu: null,
        errors: {},
        extra: {
          connections,
          heapPerConnectionB: per(heapBefore, heapAfter),
          heapAfterForcedGc: forcesGc ? 1 : 0,
          rssPerConnectionB: per(rssBefore, rssAfter),
          connectsPerS: Math.round(connections / connectS),
        },
      };
    } finally {
      closeClients(sockets);
      await sleep(context.settings.pauseMs);
    }
  },
};
