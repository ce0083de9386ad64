import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { useBrowser } from '../support/browser';
import { connectClient } from '../support/clients';
import { startCluster, type TestGateway } from '../support/cluster';
import { useRedis } from '../support/hooks';

// The chat app as people use it, in a real Chromium, against two gateways on one Redis: several rooms, a
// direct conversation, unread counts, typing and presence, history paged in by scrolling up, a reload, and a
// phone-sized screen. Screenshots of the main views go to reports/screenshots/.

const redis = useRedis();
const browser = useBrowser();
const SCREENSHOTS = join(process.cwd(), 'reports', 'screenshots');

async function startGateways(): Promise<TestGateway[]> {
  const cluster = await startCluster({
    redisUrl: redis.url,
    gateways: 2,
    webRoot: browser.webRoot,
    // The seeding client sends 500 messages quickly; the pages keep the product's budgets otherwise.
    requestLimits: { perSecond: 5_000, burst: 5_000, maxInflight: 128 },
  });
  return cluster.gateways;
}

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

/** Opens the page on `gateway` as `name` in `room` through the join form. */
async function openApp(
  gateway: TestGateway,
  name: string,
  room: string,
  viewport = { width: 1200, height: 760 },
): Promise<Page> {
  const page = await browser.openPage({ viewport, label: name });
  await page.goto(`${gateway.url}/?room=${room}`);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join', exact: true }).click();
  await page
    .getByRole('status')
    .filter({ hasText: /^Connected/ })
    .waitFor();
  await page.locator('#text:enabled').waitFor();
  return page;
}

/** Joins (or creates) `room` from the sidebar. */
async function joinFromSidebar(page: Page, room: string): Promise<void> {
  await page.getByLabel('Join or create').fill(room);
  await page.getByRole('button', { name: 'Go', exact: true }).click();
  await page
    .locator('#room-title')
    .filter({ hasText: `#${room}` })
    .waitFor();
  await page.locator('#text:enabled').waitFor();
}

function roomButton(page: Page, label: string) {
  return page
    .locator('#sidebar .room-button')
    .filter({ has: page.locator('.room-name', { hasText: label }) });
}

function messageItem(page: Page, text: string) {
  return page
    .locator('#messages li.message:not(.pending)')
    .filter({ has: page.locator('.text').getByText(text, { exact: true }) });
}

async function send(page: Page, text: string): Promise<void> {
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.fill(text);
  await box.press('Enter');
  await messageItem(page, text).waitFor();
}

const noHorizontalScroll = (page: Page) =>
  page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth);

describe('the chat app in a browser', () => {
  it('lets two users on different gateways chat in two rooms and a direct conversation, with unread counts, typing and presence', async () => {
    const [gw1, gw2] = await startGateways();
    const alice = await openApp(gw1!, 'alice', 'general');
    const bob = await openApp(gw2!, 'bob', 'general');

    // Presence: bob shows up in alice's member list, with a notice in the conversation.
    await alice.locator('#member-list li').filter({ hasText: 'bob' }).waitFor();
    await alice.locator('#messages li.notice', { hasText: 'bob joined' }).waitFor();

    await joinFromSidebar(alice, 'random');
    await joinFromSidebar(bob, 'random');
    await roomButton(bob, '#general').click();
    await bob.locator('#room-title', { hasText: '#general' }).waitFor();

    // A message in a room bob is not looking at counts as unread there, and clears when he opens it.
    await send(alice, 'over in random');
    await roomButton(bob, '#random').locator('.badge', { hasText: '1' }).waitFor();
    await roomButton(bob, '#random').click();
    await messageItem(bob, 'over in random').waitFor();
    expect(await roomButton(bob, '#random').locator('.badge').count()).toBe(0);

    // Typing: bob types in #random, alice (looking at it) sees it; it goes when he sends.
    await bob.getByRole('textbox', { name: 'Message' }).fill('hey @alice see https://example.com/page.');
    await alice.locator('#typing', { hasText: 'bob is typing…' }).waitFor();
    await bob.getByRole('textbox', { name: 'Message' }).press('Enter');
    await alice.locator('#typing', { hasText: /^$/ }).waitFor();
    const item = messageItem(alice, 'hey @alice see https://example.com/page.');
    await item.waitFor();
    // The mention of alice is highlighted for her; the link is a safe one.
    expect(await item.locator('mark.mention.me').textContent()).toBe('@alice');
    const link = item.locator('a');
    expect(await link.getAttribute('href')).toBe('https://example.com/page');
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer');

    // A direct conversation, opened from the member list: it shows up in bob's sidebar by itself (the server
    // tells his connection), and he reads it there.
    await alice.getByRole('button', { name: 'Message bob directly' }).click();
    await alice.locator('#room-title', { hasText: 'bob' }).waitFor();
    await alice.locator('#text:enabled').waitFor();
    await send(alice, 'just between us');
    await bob.locator('#dm-list .room-button', { hasText: 'alice' }).click();
    await messageItem(bob, 'just between us').waitFor();
    await send(bob, 'agreed');
    await messageItem(alice, 'agreed').waitFor();
    // The room the DM left behind: alice's #general got nothing new, bob's sidebar lists three conversations.
    expect(await bob.locator('#sidebar .room-button').count()).toBe(3);

    await screenshot(alice, 'desktop');
    await alice.emulateMedia({ colorScheme: 'dark' });
    await screenshot(alice, 'desktop-dark');
    expect(browser.pageErrors).toEqual([]);
  });

  it('pages back through 500 messages by scrolling up, comes back as the same user in the same rooms after a reload, and fits a 390 px phone', async () => {
    const [gw1, gw2] = await startGateways();
    const seeder = await connectClient(gw2!.url, { name: 'seeder' });
    await seeder.ok('room:join', { room: 'archive' });
    for (let from = 1; from <= 500; from += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          seeder.ok('message:send', {
            room: 'archive',
            text: `m${from + i}`,
            clientMsgId: `seed-${from + i}`,
          }),
        ),
      );
    }

    const page = await openApp(gw1!, 'carol', 'archive', { width: 390, height: 800 });
    const texts = page.locator('#messages li.message:not(.pending) .text');
    await expect.poll(() => texts.count()).toBeGreaterThanOrEqual(50);
    // Scroll to the top until the beginning of the room is reached.
    for (let i = 0; i < 20; i++) {
      if ((await page.locator('.history-start').count()) > 0) break;
      await page.locator('#messages').evaluate((list) => {
        list.scrollTop = 0;
      });
      await page.waitForTimeout(150);
    }
    await page.locator('.history-start', { hasText: 'This is the beginning of #archive.' }).waitFor();
    const shown = (await texts.allTextContents()).map((t) => Number(t.slice(1)));
    expect(shown).toHaveLength(500);
    // In order; the seeder sent in parallel, so seq order is the order they were stored in.
    expect(new Set(shown).size).toBe(500);
    const seqs = await page
      .locator('#messages li.message')
      .evaluateAll((items) => items.map((item) => Number((item as HTMLElement).dataset.seq)));
    expect(seqs).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    // One sender: grouped, so the name is shown once per group (and read out for each message).
    expect(await page.locator('#messages li.message:not(.continued)').count()).toBeLessThan(50);
    expect(await noHorizontalScroll(page)).toBe(true);
    await screenshot(page, 'phone-history');

    // A second room, then a reload: the same user (tag) in the same rooms.
    await page.getByRole('button', { name: /^Rooms/ }).click();
    await joinFromSidebar(page, 'lounge');
    await send(page, `a long word ${'x'.repeat(300)} and https://example.com/${'y'.repeat(200)}`);
    expect(await noHorizontalScroll(page)).toBe(true);
    const tag = await page.locator('#messages li.message.own .user-tag').first().textContent();
    await page.reload();
    await page.locator('#text:enabled').waitFor();
    await page.locator('#room-title', { hasText: '#lounge' }).waitFor();
    expect(await page.locator('#messages li.message.own .user-tag').first().textContent()).toBe(tag);
    await page.getByRole('button', { name: /^Rooms/ }).click();
    expect(await page.locator('#room-list .room-name').allTextContents()).toEqual(['#archive', '#lounge']);
    expect(await noHorizontalScroll(page)).toBe(true);
    await page.emulateMedia({ colorScheme: 'dark' });
    await screenshot(page, 'phone-dark-rooms');
    expect(browser.pageErrors).toEqual([]);
  });

  it('sums up users who come at once in one notice, and lists every one of them', async () => {
    const [gw1, gw2] = await startGateways();
    const alice = await openApp(gw1!, 'alice', 'crowd');
    const names = ['ann', 'ben', 'cat', 'dov', 'eli', 'fay'];
    const crowd = await Promise.all(names.map((name) => connectClient(gw2!.url, { name })));
    await Promise.all(crowd.map((c) => c.ok('room:join', { room: 'crowd' })));
    for (const name of names) await alice.locator('#member-list li').filter({ hasText: name }).waitFor();
    // The first one is announced at once, the others in a frame or two, each frame one line ("ben, cat and 3
    // others joined"): every name is accounted for, in fewer lines than users.
    const joinedNotices = async () =>
      (await alice.locator('#messages li.notice').allTextContents()).filter((n) => n.includes('joined'));
    await expect
      .poll(
        async () => {
          const text = (await joinedNotices()).join(' ');
          const named = names.filter((n) => text.includes(n)).length;
          const counted = [...text.matchAll(/and (\d+) others/g)].reduce((sum, m) => sum + Number(m[1]), 0);
          return named + counted;
        },
        { timeout: 10_000 },
      )
      .toBe(names.length);
    expect((await joinedNotices()).length).toBeLessThan(names.length);
  });
});
