import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { useBrowser } from '../support/browser';
import { connectClient } from '../support/clients';
import { startCluster, type TestGateway } from '../support/cluster';
import { useRedis } from '../support/hooks';

// The operators' cluster page in a real Chromium, on three gateways sharing one Redis. Set
// CHORUS_ADMIN_SCREENSHOT to a file path to keep a picture of it.

const ADMIN_TOKEN = 'e2e-admin-token-0123456789abcdef';
// Registered first, so its hooks run around the browser's (see `useBrowser`).
const redis = useRedis();
const browser = useBrowser();

async function startGateways(count: number): Promise<TestGateway[]> {
  const cluster = await startCluster({
    redisUrl: redis.url,
    gateways: count,
    webRoot: browser.webRoot,
    adminToken: ADMIN_TOKEN,
  });
  return cluster.gateways;
}

async function openAdmin(gateway: TestGateway): Promise<Page> {
  const page = await browser.openPage({
    viewport: { width: 1280, height: 900 },
    // A refused token is meant to fail its request with 401.
    ignoreConsoleError: (text) => text.includes('401'),
  });
  await page.goto(`${gateway.url}/admin`);
  return page;
}

async function signIn(page: Page, token: string): Promise<void> {
  await page.getByLabel('Admin token').fill(token);
  await page.getByRole('button', { name: 'Open' }).click();
}

describe('the cluster page in a browser', () => {
  it('draws every gateway with its connections, the busiest rooms and the message rate', async () => {
    const gateways = await startGateways(3);
    const rooms = ['lobby', 'lobby', 'lobby', 'lobby', 'support', 'support', 'random', 'lobby', 'ops'];
    const clients = await Promise.all(
      rooms.map((_, i) => connectClient(gateways[i % gateways.length]!.url, { name: `user${i}` })),
    );
    await Promise.all(clients.map((client, i) => client.ok('room:join', { room: rooms[i]! })));

    const page = await openAdmin(gateways[0]!);
    await signIn(page, ADMIN_TOKEN);
    await page.getByRole('status').filter({ hasText: 'Live via gw-1' }).waitFor();
    await expect.poll(() => page.locator('#topology .node').count(), { timeout: 8_000 }).toBe(3);
    await expect.poll(() => page.locator('#total-connections').textContent(), { timeout: 8_000 }).toBe('9');
    expect(await page.locator('#topology .node-name').allTextContents()).toEqual(['gw-1', 'gw-2', 'gw-3']);
    expect(await page.locator('#rooms .bar-name').allTextContents()).toEqual([
      'lobby',
      'support',
      'ops',
      'random',
    ]);
    expect(await page.locator('#node-rows tr td:first-child').allTextContents()).toEqual([
      'gw-1',
      'gw-2',
      'gw-3',
    ]);

    // Some traffic, so the links and the rate chart have something to show.
    for (let round = 0; round < 3; round++) {
      await Promise.all(
        clients.map((client, i) => client.ok('message:send', { room: rooms[i]!, text: 'hi' })),
      );
      await new Promise((resolve) => setTimeout(resolve, 700));
    }
    await page.locator('#topology .link.flowing').first().waitFor({ state: 'attached', timeout: 8_000 });
    await page.locator('#rate .rate-out').waitFor({ state: 'attached', timeout: 8_000 });

    const screenshot = process.env.CHORUS_ADMIN_SCREENSHOT;
    if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
    expect(browser.pageErrors).toEqual([]);
  });

  it('asks again for the token when the gateway refuses it, and forgets it on sign-out', async () => {
    const [gw1] = await startGateways(1);
    const page = await openAdmin(gw1!);
    await signIn(page, 'not-the-admin-token');
    await page.getByRole('alert').filter({ hasText: 'The admin token was refused.' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);

    await signIn(page, ADMIN_TOKEN);
    await page.locator('#topology .node').first().waitFor();
    // A reload keeps the session's token.
    await page.reload();
    await page.locator('#topology .node').first().waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin token').waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(browser.pageErrors).toEqual([]);
  });
});
