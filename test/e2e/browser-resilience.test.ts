import type { Page } from 'playwright-core';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startHaproxy } from '../../scripts/local-cluster/haproxy';
import { freePort } from '../../scripts/local-cluster/process';
import { requireTools } from '../../scripts/local-cluster/tools';
import { useBrowser } from '../support/browser';
import { type ClusterOptions, startCluster, type TestGateway } from '../support/cluster';
import { useRedis } from '../support/hooks';
import { metricSum, scrapeMetrics } from '../support/metrics';

// The chat page in a real Chromium behind HAProxy running deploy/haproxy/haproxy.cfg, in front of two
// gateways on one Redis: the pages only know the balancer's address. What people see on screen when a
// gateway dies mid-conversation, and when someone sends faster than the rate limit.

const redis = useRedis();
const browser = useBrowser();

interface Balanced {
  url: string;
  gateways: TestGateway[];
  /** Kills `gateway` as `kill -9` would: its Redis links and every TCP connection to it drop at once. */
  kill(gateway: TestGateway): Promise<void>;
  /** Starts a killed `gateway` again, same name and port, and waits until the balancer has it back. */
  restart(gateway: TestGateway): Promise<TestGateway>;
}

/** Two gateways and HAProxy in front of them (stopped after the test). */
async function startBalanced(options: Partial<ClusterOptions> = {}): Promise<Balanced> {
  const cluster = await startCluster({
    redisUrl: redis.url,
    gateways: 2,
    webRoot: browser.webRoot,
    restartablePorts: true,
    ...options,
  });
  const gateways = [...cluster.gateways];
  const haproxy = await startHaproxy({
    binary: requireTools(['haproxy']).haproxy,
    port: await freePort(),
    statsPort: await freePort(),
    gateways: gateways.map((g) => `127.0.0.1:${g.port}`),
  });
  onTestFinished(() => haproxy.stop());
  await haproxy.waitForServers('both gateways UP', (servers) => servers.every((s) => s.up));
  return {
    url: haproxy.url,
    gateways,
    kill: (gateway) => gateway.crash(),
    async restart(gateway) {
      const again = await cluster.addGateway(gateway.nodeId, gateway.port);
      gateways[gateways.indexOf(gateway)] = again;
      const server = `gw${gateways.indexOf(again) + 1}`;
      await haproxy.waitForServers(`${gateway.nodeId} back`, (servers) =>
        servers.some((s) => s.name === server && s.up),
      );
      return again;
    },
  };
}

/** The gateway holding `name`'s connection, seen from the gateways themselves (the page never names it). */
function nodeOf(gateways: TestGateway[], name: string): string | undefined {
  return gateways.find((g) =>
    [...g.gateway.io.of('/').sockets.values()].some((socket) => socket.data.user?.name === name),
  )?.nodeId;
}

/** Opens the page at `url` as `name` in `room` through the join form, and waits until it can send. */
async function openApp(url: string, name: string, room: string): Promise<Page> {
  const page = await browser.openPage({ viewport: { width: 1000, height: 700 }, label: name });
  await page.goto(`${url}/?room=${room}`);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join', exact: true }).click();
  await page.locator('#text:enabled').waitFor();
  return page;
}

/**
 * alice and bob in `room` through the balancer, on different gateways: leastconn puts a new connection on
 * the gateway with fewer, but the page's own HTTP requests count too, so bob reloads until he is elsewhere.
 */
async function twoOnDifferentGateways(lb: Balanced, room: string): Promise<[Page, Page]> {
  const alice = await openApp(lb.url, 'alice', room);
  const bob = await openApp(lb.url, 'bob', room);
  for (let i = 0; i < 5 && nodeOf(lb.gateways, 'bob') === nodeOf(lb.gateways, 'alice'); i++) {
    await bob.reload();
    await bob.locator('#text:enabled').waitFor();
  }
  expect(new Set([nodeOf(lb.gateways, 'alice'), nodeOf(lb.gateways, 'bob')])).toEqual(
    new Set(['gw-1', 'gw-2']),
  );
  return [alice, bob];
}

/** The page's acknowledged messages, top to bottom: seq and text. */
function shown(page: Page): Promise<{ seq: number; text: string }[]> {
  return page.locator('#messages li.message:not(.pending)').evaluateAll((items) =>
    items.map((item) => ({
      seq: Number((item as HTMLElement).dataset.seq),
      text: item.querySelector('.text')?.textContent ?? '',
    })),
  );
}

/** Puts each of `texts` in the composer and submits the form, as Enter does; false when it cannot send now. */
function sendInPage(page: Page, texts: string[]): Promise<boolean> {
  return page.evaluate((texts) => {
    const box = document.querySelector<HTMLTextAreaElement>('#text');
    const form = document.querySelector<HTMLFormElement>('#send-form');
    if (!box || !form || box.disabled) return false;
    for (const text of texts) {
      box.value = text;
      form.requestSubmit();
    }
    return true;
  }, texts);
}

const pendingCount = (page: Page) => page.locator('#messages li.message.pending').count();

describe('the chat page behind HAProxy', () => {
  it('puts two people who open the balancer on different gateways, and they chat across them', async () => {
    const lb = await startBalanced();
    const [alice, bob] = await twoOnDifferentGateways(lb, 'hello');
    await sendInPage(alice, ['hi bob']);
    await bob.locator('#messages li.message .text', { hasText: 'hi bob' }).waitFor();
    await sendInPage(bob, ['hi alice']);
    await alice.locator('#messages li.message .text', { hasText: 'hi alice' }).waitFor();
    expect(await shown(alice)).toEqual(await shown(bob));
    expect(browser.pageErrors).toEqual([]);
  });

  it('loses, repeats and reorders nothing on screen when the gateway of one person dies mid-conversation, and none when it is back and the other dies', async () => {
    const lb = await startBalanced();
    const [alice, bob] = await twoOnDifferentGateways(lb, 'steady');
    const victim = lb.gateways.find((g) => g.nodeId === nodeOf(lb.gateways, 'alice'))!;
    const survivor = lb.gateways.find((g) => g !== victim)!;

    // Both keep talking, a message each every 100 ms or so, before, during and after the crash.
    const sent: string[] = [];
    const keepsTalking = async () => {
      const before = sent.length;
      await expect.poll(() => sent.length, { timeout: 10_000 }).toBeGreaterThan(before + 10);
    };
    let talking = true;
    const talk = async (page: Page, who: string) => {
      let n = 1;
      while (talking) {
        // A composer that cannot send (the room not joined again yet) is tried again next time.
        if (await sendInPage(page, [`${who}${n}`])) sent.push(`${who}${n++}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    const talkers = Promise.all([talk(alice, 'a'), talk(bob, 'b')]);
    try {
      await expect.poll(() => sent.length, { timeout: 10_000 }).toBeGreaterThan(10);
      await lb.kill(victim);
      // alice's page finds the survivor through the balancer by itself.
      await expect.poll(() => nodeOf([survivor], 'alice'), { timeout: 15_000 }).toBe(survivor.nodeId);
      await keepsTalking();
      // The dead gateway is restarted (same name, same port); then the other one dies: both pages move to the
      // restarted one, which has to serve a room whose conversation went on while it was away.
      const restarted = await lb.restart(victim);
      await lb.kill(survivor);
      for (const who of ['alice', 'bob'])
        await expect.poll(() => nodeOf([restarted], who), { timeout: 15_000 }).toBe(restarted.nodeId);
      await keepsTalking();
    } finally {
      talking = false;
      await talkers;
    }

    // Every send was acknowledged, and both screens show each message once, in seq order, without a gap.
    for (const page of [alice, bob]) await expect.poll(() => pendingCount(page), { timeout: 15_000 }).toBe(0);
    await expect.poll(async () => (await shown(bob)).length, { timeout: 10_000 }).toBe(sent.length);
    await expect.poll(async () => (await shown(alice)).length, { timeout: 10_000 }).toBe(sent.length);
    const onAlice = await shown(alice);
    expect(await shown(bob)).toEqual(onAlice);
    expect(onAlice.map((m) => m.seq)).toEqual(Array.from({ length: sent.length }, (_, i) => i + 1));
    expect(new Set(onAlice.map((m) => m.text))).toEqual(new Set(sent));
    // Each person's messages in the order they were typed.
    for (const who of ['a', 'b']) {
      const theirs = onAlice.filter((m) => m.text.startsWith(who)).map((m) => m.text);
      expect(theirs).toEqual(sent.filter((text) => text.startsWith(who)));
    }
    expect(browser.pageErrors).toEqual([]);
  }, 90_000);

  it('shows a burst of 100 sends past the rate limit in the order they were sent, on both screens', async () => {
    const lb = await startBalanced({ rateLimit: { perSecond: 10, burst: 20 } });
    const [alice, bob] = await twoOnDifferentGateways(lb, 'burst');
    const texts = Array.from({ length: 100 }, (_, i) => `m${i}`);
    // All 100 in one go, each through the composer's form: far past 20 at once and 10 a second.
    expect(await sendInPage(alice, texts)).toBe(true);

    for (const page of [alice, bob]) {
      await expect
        .poll(async () => (await shown(page)).map((m) => m.text), { timeout: 30_000 })
        .toEqual(texts);
    }
    expect(await pendingCount(alice)).toBe(0);
    expect(await shown(bob)).toEqual(await shown(alice));
    // The limit was really in the way: the gateway refused some sends, and the page sent them again in turn.
    const limited = await Promise.all(
      lb.gateways.map(async (g) => metricSum(await scrapeMetrics(g.url), 'chorus_rate_limited_total')),
    );
    expect(limited.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(browser.pageErrors).toEqual([]);
  }, 60_000);
});
