import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { type LocalCluster, type LocalGateway, startLocalCluster } from '../../scripts/local-cluster/cluster';
import { ChatLedger, type Chatter } from '../support/chatters';
import { openPlainSocket } from '../support/clients';
import { clusterSum, metricSum, scrapeMetrics } from '../support/metrics';
import { eventually, sleep } from '../support/wait';

/**
 * The local cluster of `npm run cluster` (real redis-server, three gateway processes, HAProxy running
 * deploy/haproxy/haproxy.cfg), then nginx from deploy/nginx/nginx.conf in front of the same gateways.
 * Clients only ever know the balancer's URL.
 */

let cluster: LocalCluster;
const ledger = new ChatLedger();
const chatters: Chatter[] = [];
const output: string[] = [];

beforeAll(async () => {
  cluster = await startLocalCluster({
    gateways: 3,
    env: {
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_SECOND: '100',
      RATE_LIMIT_BURST: '100',
      // Behind the balancer every test client is 127.0.0.1: one address, many people.
      ADDRESS_SEND_RATE: '100000',
      ADDRESS_SEND_BURST: '100000',
      READINESS_GRACE_MS: '1500',
      // Rebalancing has its own test (rebalancing.test.ts); here it would add moves to the counted ones.
      REBALANCE_INTERVAL_MS: '0',
    },
    onLine: (source, line) => {
      output.push(`[${source}] ${line}`);
      if (output.length > 300) output.shift();
    },
  });
}, 60_000);

afterEach((context) => {
  if (context.task.result?.state === 'fail') {
    process.stderr.write(`last lines of the cluster's processes:\n${output.slice(-80).join('\n')}\n`);
  }
});

afterAll(async () => {
  ledger.close();
  await cluster?.stop();
}, 60_000);

/** Sends from every chatter, each to one of its rooms in turn, every `everyMs`, until the returned stop. */
function keepChatting(everyMs: number): () => void {
  let turn = 0;
  const timer = setInterval(() => {
    turn += 1;
    for (const chatter of chatters) chatter.send(chatter.rooms[turn % chatter.rooms.length]!);
  }, everyMs);
  return () => clearInterval(timer);
}

async function expectEveryAckedMessageOnce(): Promise<void> {
  await ledger.settled();
  await eventually(() => expect(ledger.problems().slice(0, 10)).toEqual([]), { timeoutMs: 10_000 });
  for (const chatter of chatters) expect(chatter.resets).toEqual([]);
}

const status = async (url: string) => (await fetch(url)).status;

function dropsBetween(chatter: Chatter, from: number, to: number): number {
  return chatter.drops.filter((t) => t >= from && t < to).length;
}

/**
 * Two clients of the seed's own page, each doing `new WebSocket('ws://host:port')` (the root path, no query)
 * through the balancer at `url`: one says a bare line, both must read it back as `from <guest>: <line>`.
 */
async function seedPageChatsThrough(url: string): Promise<void> {
  const seedUrl = `ws://${new URL(url).host}`;
  const open = () => openPlainSocket(seedUrl);
  const first = await open();
  const second = await open();
  try {
    // The second's echo proves it is in the lobby; the first's line waits for the first's own join.
    const line = `seed page ${Math.random().toString(36).slice(2, 8)}`;
    const heard = (lines: string[]) =>
      lines.some((l) => /^from guest-[0-9a-f]{4}: /.test(l) && l.endsWith(line));
    second.ws.send('here');
    await eventually(() => expect(second.lines.some((l) => l.endsWith(': here'))).toBe(true));
    first.ws.send(line);
    await eventually(() => expect(heard(first.lines) && heard(second.lines)).toBe(true));
  } finally {
    first.ws.terminate();
    second.ws.terminate();
  }
}

describe('the local cluster behind HAProxy', () => {
  it('serves the page, /readyz and its own /lb-health through the balancer', async () => {
    const page = await fetch(`${cluster.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const ready = await fetch(`${cluster.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', mode: 'redis' });
    expect(await status(`${cluster.url}/lb-health`)).toBe(200);
  });

  it('spreads websocket and polling clients over all three gateways, and they chat across them', async () => {
    for (const transport of ['websocket', 'polling'] as const) {
      for (let i = 1; i <= 6; i++) {
        const chatter = ledger.chatter([cluster.url], `${transport.slice(0, 4)}-${i}`, transport);
        chatters.push(chatter);
        await chatter.join(...(i % 2 === 0 ? ['lobby', 'side'] : ['lobby']));
      }
    }
    for (const transport of ['websocket', 'polling']) {
      const nodes = chatters.filter((c) => c.transport === transport).map((c) => c.node());
      expect(new Set(nodes), transport).toEqual(new Set(['gw-1', 'gw-2', 'gw-3']));
    }
    const stop = keepChatting(100);
    await sleep(1_500);
    stop();
    await expectEveryAckedMessageOnce();
    // Every request of a polling session reached the gateway holding it: nobody had to reconnect.
    for (const chatter of chatters) expect(chatter.drops, chatter.name).toEqual([]);
    // The gateways' metrics count exactly what was sent, and /metrics is reachable through the balancer.
    const urls = cluster.gateways.map((g) => g.url);
    expect(await clusterSum(urls, 'chorus_messages_in_total')).toBe(ledger.acked.size);
    expect(metricSum(await scrapeMetrics(cluster.url), 'chorus_connections')).toBeGreaterThan(0);
  });

  it('restarts every gateway in turn with SIGTERM while clients chat: nothing lost or repeated, one move each', async () => {
    const stop = keepChatting(250);
    const windows: { gateway: LocalGateway; from: number; to: number; movers: Chatter[] }[] = [];
    try {
      for (const gateway of cluster.gateways) {
        const from = Date.now();
        const movers = chatters.filter((c) => c.node() === gateway.nodeId);
        expect(movers.length, `clients on ${gateway.nodeId}`).toBeGreaterThan(0);
        const stopping = gateway.stop();
        // Readiness turns 503 at once, and the balancer takes the gateway out before it moves anyone
        // (DRAIN_NOTICE_MS, 2 s by default).
        await eventually(async () => expect(await status(`${gateway.url}/readyz`)).toBe(503), {
          timeoutMs: 1_000,
        });
        await cluster.haproxy.waitForServers(
          `${gateway.nodeId} out of rotation`,
          (servers) => servers.find((s) => s.name === cluster.serverName(gateway))?.up === false,
          3_000,
        );
        expect(Date.now() - from).toBeLessThan(2_000);
        expect((await stopping).code).toBe(0);
        await eventually(() => expect(movers.filter((c) => c.node() === gateway.nodeId)).toEqual([]), {
          timeoutMs: 10_000,
        });
        await gateway.start();
        await cluster.waitUntilBalanced();
        windows.push({ gateway, from, to: Date.now(), movers });
      }
    } finally {
      stop();
    }
    await expectEveryAckedMessageOnce();
    expect(ledger.acked.size).toBeGreaterThan(100);
    for (const { gateway, from, to, movers } of windows) {
      for (const chatter of chatters) {
        const moved = movers.includes(chatter) ? 1 : 0;
        expect(dropsBetween(chatter, from, to), `${chatter.name} during ${gateway.nodeId}'s restart`).toBe(
          moved,
        );
      }
    }
  }, 60_000);

  it('takes a killed gateway out of rotation within two seconds, and its clients resume on the others', async () => {
    const victim = cluster.gateways[1]!;
    onTestFinished(async () => {
      await victim.start();
      await cluster.waitUntilBalanced();
    });
    const movers = chatters.filter((c) => c.node() === victim.nodeId);
    expect(movers.length).toBeGreaterThan(0);
    const killedAt = Date.now();
    const stop = keepChatting(250);
    try {
      await victim.kill();
      await cluster.haproxy.waitForServers(
        `${victim.nodeId} down`,
        (servers) => servers.find((s) => s.name === cluster.serverName(victim))?.up === false,
        2_000,
      );
      expect(Date.now() - killedAt).toBeLessThan(2_000);
      await eventually(
        () => {
          for (const chatter of movers) expect([undefined, victim.nodeId]).not.toContain(chatter.node());
        },
        { timeoutMs: 10_000 },
      );
    } finally {
      stop();
    }
    await expectEveryAckedMessageOnce();
    for (const chatter of chatters) {
      const moved = movers.includes(chatter) ? 1 : 0;
      expect(dropsBetween(chatter, killedAt, Date.now()), chatter.name).toBe(moved);
    }
  }, 30_000);

  it('reports 503 on /readyz of every gateway while Redis is down, and keeps every message across it', async () => {
    onTestFinished(() => cluster.redis.start());
    const from = Date.now();
    const stop = keepChatting(250);
    try {
      await cluster.redis.kill();
      for (const gateway of cluster.gateways) {
        await eventually(async () => expect(await status(`${gateway.url}/readyz`)).toBe(503), {
          timeoutMs: 5_000,
        });
      }
      await eventually(async () => expect(await status(`${cluster.url}/lb-health`)).toBe(503), {
        timeoutMs: 5_000,
      });
      expect(await status(`${cluster.url}/readyz`)).toBe(503);
      await cluster.redis.start();
      for (const gateway of cluster.gateways) {
        await eventually(async () => expect(await status(`${gateway.url}/readyz`)).toBe(200), {
          timeoutMs: 10_000,
        });
      }
      await cluster.waitUntilBalanced();
      await sleep(500);
    } finally {
      stop();
    }
    // The append-only file kept the rooms: no client had to reload one (checked inside).
    await expectEveryAckedMessageOnce();
    // Unready gateways keep their sockets, and the balancer keeps routing polling sessions to them.
    for (const chatter of chatters) expect(dropsBetween(chatter, from, Date.now()), chatter.name).toBe(0);
  }, 40_000);

  // Last: its plain messages would be counted in the metrics the first tests compare with their ledger.
  it("routes the seed page's WebSocket at the root path to the gateways, where it chats as a guest in the lobby", async () => {
    await seedPageChatsThrough(cluster.url);
  });
});

describe('the same gateways behind nginx', () => {
  it('spreads websocket clients over the gateways, and they chat across them with polling clients', async () => {
    const nginx = await cluster.startNginx();
    expect(await status(`${nginx.url}/`)).toBe(200);
    expect(await status(`${nginx.url}/readyz`)).toBe(200);
    const local = new ChatLedger();
    try {
      await seedPageChatsThrough(nginx.url);
      const viaNginx = Array.from({ length: 6 }, (_, i) =>
        local.chatter([nginx.url], `nginx-ws-${i + 1}`, 'websocket'),
      );
      for (const chatter of viaNginx) await chatter.join('nginx-room');
      expect(new Set(viaNginx.map((c) => c.node()))).toEqual(new Set(['gw-1', 'gw-2', 'gw-3']));
      // Polling sticks by client address in open-source nginx: here every poller shares one gateway.
      const pollers = [local.chatter([nginx.url], 'nginx-poll-1', 'polling')];
      pollers.push(local.chatter([nginx.url], 'nginx-poll-2', 'polling'));
      for (const chatter of pollers) await chatter.join('nginx-room');
      const everyone = [...viaNginx, ...pollers];
      for (let round = 0; round < 3; round++) for (const chatter of everyone) chatter.send('nginx-room');
      await local.settled();
      expect(local.acked.size).toBe(24);
      await eventually(() => expect(local.problems()).toEqual([]), { timeoutMs: 5_000 });
      for (const chatter of everyone) expect(chatter.drops, chatter.name).toEqual([]);
    } finally {
      local.close();
      await nginx.stop();
    }
  });
});
