import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { useBrowser } from '../support/browser';
import { startCluster } from '../support/cluster';
import { useRedis } from '../support/hooks';

// Mentions while the tab is in the background, in a real Chromium. Headless Chromium never hides a page, so
// each page gets a switch for `document.hidden` (and `visibilityState`) that fires `visibilitychange` as a
// browser does when the tab goes to the background or comes back.

const redis = useRedis();
const browser = useBrowser();

async function openApp(url: string, name: string): Promise<Page> {
  const page = await browser.openPage({ viewport: { width: 1000, height: 700 }, label: name });
  await page.addInitScript(() => {
    let hidden = false;
    Object.defineProperty(Document.prototype, 'hidden', { get: () => hidden, configurable: true });
    Object.defineProperty(Document.prototype, 'visibilityState', {
      get: () => (hidden ? 'hidden' : 'visible'),
      configurable: true,
    });
    (window as unknown as { setHidden(value: boolean): void }).setHidden = (value) => {
      hidden = value;
      document.dispatchEvent(new Event('visibilitychange'));
    };
  });
  await page.goto(`${url}/?room=team`);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join', exact: true }).click();
  await page.locator('#text:enabled').waitFor();
  return page;
}

const setHidden = (page: Page, hidden: boolean) =>
  page.evaluate(
    (value) => (window as unknown as { setHidden(value: boolean): void }).setHidden(value),
    hidden,
  );

async function send(page: Page, text: string): Promise<void> {
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.fill(text);
  await box.press('Enter');
}

describe('mentions while the tab is hidden', () => {
  it('count in the title badge, only mentions of this user, and the badge goes when the tab is looked at', async () => {
    const { gateways } = await startCluster({ redisUrl: redis.url, gateways: 1, webRoot: browser.webRoot });
    const alice = await openApp(gateways[0]!.url, 'alice');
    const bob = await openApp(gateways[0]!.url, 'bob');
    expect(await alice.title()).toBe('#team · Chorus');

    await setHidden(alice, true);
    await send(bob, 'not for her: @carol, @alicia');
    await send(bob, 'hey @alice, look');
    await expect.poll(() => alice.title()).toBe('(1) #team · Chorus');
    await send(bob, '@alice again');
    await expect.poll(() => alice.title()).toBe('(2) #team · Chorus');
    // A mention while she is looking adds nothing; coming back clears the badge.
    await setHidden(alice, false);
    await expect.poll(() => alice.title()).toBe('#team · Chorus');
    await send(bob, 'now @alice sees it at once');
    await alice.getByText('now @alice sees it at once').waitFor();
    expect(await alice.title()).toBe('#team · Chorus');
    expect(browser.pageErrors).toEqual([]);
  });
});
