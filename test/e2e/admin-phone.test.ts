import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useBrowser } from '../support/browser';
import { connectClient } from '../support/clients';
import { startCluster } from '../support/cluster';
import { useRedis } from '../support/hooks';

// The operators' cluster page on a 390 px phone screen, in a real Chromium, on two gateways sharing one Redis.
// A screenshot goes to reports/screenshots/admin-phone.png.

const ADMIN_TOKEN = 'e2e-admin-token-0123456789abcdef';
const redis = useRedis();
const browser = useBrowser();
const PHONE = { width: 390, height: 844 };

describe('the cluster page on a phone', () => {
  it('fits 390 px without scrolling sideways, with every panel, tile and table row on screen', async () => {
    const { gateways } = await startCluster({
      redisUrl: redis.url,
      gateways: 2,
      webRoot: browser.webRoot,
      adminToken: ADMIN_TOKEN,
    });
    const clients = await Promise.all(gateways.map((g, i) => connectClient(g.url, { name: `user${i}` })));
    await Promise.all(clients.map((c) => c.ok('room:join', { room: 'a-rather-long-room-name-for-a-phone' })));

    const page = await browser.openPage({ viewport: PHONE });
    await page.goto(`${gateways[0]!.url}/admin`);
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Open' }).click();
    await expect.poll(() => page.locator('#node-rows tr').count(), { timeout: 8_000 }).toBe(2);
    await expect.poll(() => page.locator('#total-connections').textContent(), { timeout: 8_000 }).toBe('2');
    await page.locator('#rooms .bar-name').first().waitFor({ state: 'attached' });

    // Nothing is wider than the screen, and nothing spills out of its box (a tile's label, a clipped table).
    const overflow = await page.evaluate(() => {
      const width = document.documentElement.clientWidth;
      const shown = [...document.querySelectorAll<HTMLElement>('main:not([hidden]) *, header *')].filter(
        // The table's header row is visually hidden on a phone (kept for screen readers): 1 px on purpose.
        (el) => el.getClientRects().length > 0 && el.closest('thead') === null,
      );
      const name = (el: Element) =>
        `${el.tagName.toLowerCase()}.${el.className} "${el.textContent?.slice(0, 20)}"`;
      return {
        page: document.documentElement.scrollWidth - width,
        wide: shown
          .filter((el) => {
            const box = el.getBoundingClientRect();
            return box.left < -0.5 || box.right > width + 0.5;
          })
          .map(name),
        spilling: shown.filter((el) => el.scrollWidth > el.clientWidth + 1).map(name),
      };
    });
    expect(overflow).toEqual({ page: 0, wide: [], spilling: [] });

    // The main content is there and usable: totals, the three pictures, every node's row, and sign-out.
    for (const id of ['#total-nodes', '#total-connections', '#topology', '#rate', '#rooms', '#node-rows']) {
      expect(await page.locator(id).isVisible(), id).toBe(true);
    }
    const chart = await page.locator('#topology').boundingBox();
    expect(chart!.width).toBeGreaterThan(300);
    expect(await page.locator('#node-rows td:first-child').allTextContents()).toEqual(['gw-1', 'gw-2']);
    mkdirSync(join(process.cwd(), 'reports', 'screenshots'), { recursive: true });
    await page.screenshot({
      path: join(process.cwd(), 'reports', 'screenshots', 'admin-phone.png'),
      fullPage: true,
    });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin token').waitFor();
    expect(browser.pageErrors).toEqual([]);
  });
});
