import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { useBrowser } from '../support/browser';
import { type ClusterOptions, startCluster, type TestGateway } from '../support/cluster';
import { useRedis } from '../support/hooks';

// Real pages in a real Chromium, served by two gateways sharing one Redis. Set CHORUS_SCREENSHOT to a file
// path to keep a picture of the chat page.

const ROOM = 'e2e';
// Registered first, so its hooks run around the browser's (see `useBrowser`).
const redis = useRedis();
const browser = useBrowser();

/** Two gateways on the test Redis (own key prefix), serving the built page; closed after the test. */
async function startGateways(options: ClusterOptions = {}): Promise<TestGateway[]> {
  const cluster = await startCluster({
    redisUrl: redis.url,
    gateways: 2,
    webRoot: browser.webRoot,
    ...options,
  });
  return cluster.gateways;
}

/** Opens the chat page of `gateway` in its own browser context, joins `room` as `name`, waits until ready. */
async function openChat(gateway: TestGateway, name: string, room = ROOM): Promise<Page> {
  const page = await browser.openPage({ viewport: { width: 1100, height: 700 }, label: name });
  page.on('dialog', (dialog) => {
    browser.pageErrors.push(`${name}: unexpected dialog "${dialog.message()}"`);
    void dialog.dismiss();
  });

  await page.goto(`${gateway.url}/?room=${room}`);
  expect(await page.getByRole('textbox', { name: 'Room', exact: true }).inputValue()).toBe(room);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join' }).click();
  // Ordinary users are not shown the gateway's internal name.
  await page
    .getByRole('status')
    .filter({ hasText: /^Connected/ })
    .waitFor();
  await page.locator('#text:enabled').waitFor();
  return page;
}

/** The list item of the delivered (acknowledged) message whose text is exactly `text`. */
function messageItem(page: Page, text: string) {
  return page
    .locator('#messages li:not(.pending)')
    .filter({ has: page.locator('.text').getByText(text, { exact: true }) });
}

/** Sends typed on `page` that wait for their ack, shown greyed out after the messages. */
function pendingItems(page: Page) {
  return page.locator('#messages li.pending');
}

/** Makes `gateway` refuse new Socket.IO connections until `end()`; connected clients are not affected. */
function refuseConnections(gateway: TestGateway): { end(): void } {
  let refusing = true;
  gateway.gateway.io.use((_socket, next) => next(refusing ? new Error('not now') : undefined));
  return {
    end: () => {
      refusing = false;
    },
  };
}

/** Types `text`, presses Enter, and waits until the sender's own page shows it (the send was acknowledged). */
async function send(page: Page, text: string): Promise<void> {
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.fill(text);
  await box.press('Enter');
  await messageItem(page, text).waitFor();
  expect(await box.inputValue()).toBe('');
}

const messageTexts = (page: Page) => page.locator('#messages li:not(.pending) .text').allTextContents();

describe('the chat page in a browser', () => {
  it('delivers a message typed on gateway 1 to a page on gateway 2, with the sender name', async () => {
    const [gw1, gw2] = await startGateways();
    const alice = await openChat(gw1!, 'alice');
    const bob = await openChat(gw2!, 'bob');

    await alice.locator('#member-list li').filter({ hasText: 'bob' }).waitFor();
    await send(alice, 'hello from alice');

    for (const page of [bob, alice]) {
      const item = messageItem(page, 'hello from alice');
      await item.waitFor();
      expect(await item.locator('.author').textContent()).toBe('alice');
    }
    // Alice got her message twice (the send's answer and the live copy) and shows it once.
    expect(await messageTexts(alice)).toEqual(['hello from alice']);
    expect(await bob.getByRole('status').textContent()).toBe('Connected');
    expect(await bob.content()).not.toContain('gw-2');
    expect(await bob.locator('#member-list li .name').allTextContents()).toEqual(['alice', 'bob']);

    const screenshot = process.env.CHORUS_SCREENSHOT;
    if (screenshot) await alice.screenshot({ path: screenshot });
    expect(browser.pageErrors).toEqual([]);
  });

  it('tells two Bobs apart, marks guests, and keeps a guest the same user across a reload', async () => {
    const [gw1, gw2] = await startGateways();
    const bob1 = await openChat(gw1!, 'Bob');
    const bob2 = await openChat(gw2!, 'Bob');
    await send(bob1, 'first Bob here');
    await send(bob2, 'second Bob here');
    const members = bob1.locator('#member-list li');
    await expect.poll(() => members.count()).toBe(2);
    const tags = await members.locator('.user-tag').allTextContents();
    expect(tags).toHaveLength(2);
    expect(tags[0]).toMatch(/^#[0-9a-z]{4}$/);
    expect(tags[0]).not.toBe(tags[1]);
    expect(await members.locator('.guest-badge').allTextContents()).toEqual(['guest', 'guest']);
    await messageItem(bob1, 'second Bob here').waitFor();
    const authorTags = [
      await messageItem(bob1, 'first Bob here').locator('.user-tag').textContent(),
      await messageItem(bob1, 'second Bob here').locator('.user-tag').textContent(),
    ];
    expect(new Set(authorTags).size).toBe(2);
    expect(tags.sort()).toEqual([...authorTags].sort());

    // A reload (same browser storage) comes back as the same guest in the same room: the same tag, and still
    // two members, not three.
    const ownTag = await messageItem(bob1, 'first Bob here').locator('.user-tag').textContent();
    await bob1.reload();
    await bob1.locator('#text:enabled').waitFor();
    await messageItem(bob1, 'second Bob here').waitFor();
    await send(bob1, 'Bob again');
    await expect.poll(() => messageItem(bob2, 'Bob again').locator('.user-tag').textContent()).toBe(ownTag);
    await expect.poll(() => bob2.locator('#member-list li').count()).toBe(2);
    expect(browser.pageErrors).toEqual([]);
  });

  it('shows markup in messages and names as plain text', async () => {
    const [gw1, gw2] = await startGateways();
    const attack = '<img src=x onerror=alert(1)>';
    const alice = await openChat(gw1!, 'alice');
    const mallory = await openChat(gw2!, '<b>mallory</b>');

    await send(mallory, attack);
    const item = messageItem(alice, attack);
    await item.waitFor();
    expect(await item.locator('.text').textContent()).toBe(attack);
    expect(await item.locator('.author').textContent()).toBe('<b>mallory</b>');
    expect(await alice.locator('#messages img, #messages b').count()).toBe(0);

    const member = alice.locator('#member-list li').filter({ hasText: '<b>mallory</b>' });
    await member.waitFor();
    expect(await alice.locator('#member-list b').count()).toBe(0);
    expect(browser.pageErrors).toEqual([]);
  });

  it('shows the history once to a late joiner, what it missed while reconnecting, and sends what it typed meanwhile', async () => {
    const [gw1, gw2] = await startGateways();
    const alice = await openChat(gw1!, 'alice');
    for (const text of ['one', 'two', 'three']) await send(alice, text);

    const bob = await openChat(gw2!, 'bob');
    await messageItem(bob, 'three').waitFor();
    expect(await messageTexts(bob)).toEqual(['one', 'two', 'three']);

    // Gateway 2 drops bob's connection (as when it drains) and refuses him until the test lets him back; then
    // the page comes back by itself.
    const away = refuseConnections(gw2!);
    gw2!.gateway.io.local.disconnectSockets(true);
    await bob.getByRole('status').filter({ hasText: 'Reconnecting' }).waitFor();
    await send(alice, 'while you were away');
    // What bob types meanwhile waits in the outbox, shown as pending, and goes out once he is back.
    const box = bob.getByRole('textbox', { name: 'Message' });
    await box.fill('typed while away');
    await box.press('Enter');
    await pendingItems(bob).filter({ hasText: 'typed while away' }).filter({ hasText: 'sending…' }).waitFor();
    expect(await messageTexts(bob)).toEqual(['one', 'two', 'three']);
    away.end();

    await bob
      .getByRole('status')
      .filter({ hasText: /^Connected/ })
      .waitFor();
    const all = ['one', 'two', 'three', 'while you were away', 'typed while away'];
    for (const page of [bob, alice]) {
      await messageItem(page, 'typed while away').waitFor();
      expect(await messageTexts(page)).toEqual(all);
    }
    expect(await pendingItems(bob).count()).toBe(0);
    await expect.poll(() => alice.locator('#member-list li').filter({ hasText: 'bob' }).count()).toBe(1);
    await expect.poll(() => bob.locator('#member-list li .name').allTextContents()).toEqual(['alice', 'bob']);
    expect(browser.pageErrors).toEqual([]);
  });

  it('shows a rate-limited message as retrying and delivers it once when the limit has passed', async () => {
    // One message at once, then one every two seconds.
    const [gw1] = await startGateways({ gateways: 1, rateLimit: { perSecond: 0.5, burst: 1 } });
    const alice = await openChat(gw1!, 'alice');
    await send(alice, 'first');

    const box = alice.getByRole('textbox', { name: 'Message' });
    await box.fill('second');
    await box.press('Enter');
    // The client SDK retries RATE_LIMITED with the same clientMsgId; the page says so instead of failing.
    await pendingItems(alice)
      .filter({ hasText: 'second' })
      .filter({ hasText: 'rate limited, retrying…' })
      .waitFor();
    expect(await box.inputValue()).toBe('');
    expect(await messageTexts(alice)).toEqual(['first']);

    await messageItem(alice, 'second').waitFor({ timeout: 15_000 });
    expect(await messageTexts(alice)).toEqual(['first', 'second']);
    expect(await pendingItems(alice).count()).toBe(0);
    expect(await alice.locator('#send-error').textContent()).toBe('');

    // Input the schema refuses never reaches the server.
    await box.fill('   ');
    await box.press('Enter');
    await alice.locator('#send-error').filter({ hasText: 'Text must not be blank.' }).waitFor();
    expect(browser.pageErrors).toEqual([]);
  });
});
