import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { launchBrowser } from '../support/browser';
import { connectClient, connectPlain, openPlainSocket, waitForMessages } from '../support/clients';
import { useCluster } from '../support/hooks';
import { eventually, withTimeout } from '../support/wait';

/**
 * The seed's own page: `new WebSocket('ws://host:port')` (the root path, no query), bare text lines out,
 * `from <name>: <text>` lines in. It must work unchanged against any gateway.
 */

/**
 * The seed's page in the shape it had: served by the chat server itself, a script that opens the root path of
 * that same host and port (in a file, as the gateway's CSP allows no inline script).
 */
function seedPageRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'chorus-seed-page-'));
  writeFileSync(
    join(root, 'seed.html'),
    '<!doctype html><title>chat</title><ul id="log"></ul><script src="seed.js"></script>\n',
  );
  writeFileSync(
    join(root, 'seed.js'),
    `const ws = new WebSocket('ws://' + location.host);
ws.onopen = () => ws.send('typed in the old page');
ws.onmessage = (e) => {
  const li = document.createElement('li');
  li.textContent = e.data;
  document.getElementById('log').appendChild(li);
};
`,
  );
  return root;
}

const webRoot = seedPageRoot();
afterAll(() => rmSync(webRoot, { recursive: true, force: true }));
const cluster = useCluster({ gateways: 2, webRoot });

/** `ws://host:port` of a gateway, exactly as the seed's page wrote it: no path, no query. */
const seedUrl = (url: string) => `ws://${new URL(url).host}`;

interface SeedClient {
  ws: WebSocket;
  lines: string[];
}

const opened: WebSocket[] = [];
afterEach(() => {
  for (const ws of opened.splice(0)) ws.terminate();
});

async function openSeed(url: string): Promise<SeedClient> {
  const seed = await openPlainSocket(url);
  opened.push(seed.ws);
  return seed;
}

/** The HTTP status an upgrade to `path` gets (101 when it opens). */
function upgradeStatus(url: string, path: string, headers: Record<string, string> = {}): Promise<number> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}${path}`, { headers });
  opened.push(ws);
  return withTimeout(
    new Promise((resolve) => {
      ws.once('open', () => resolve(101));
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('error', () => resolve(0));
    }),
    5_000,
    `upgrade of ${path}`,
  );
}

function lineMatching(client: SeedClient, pattern: RegExp): Promise<string> {
  return eventually(() => {
    const line = client.lines.find((l) => pattern.test(l));
    if (!line) throw new Error(`no line matching ${pattern} in ${JSON.stringify(client.lines)}`);
    return line;
  });
}

describe("the seed's page at the root path", () => {
  it('lets two seed clients on different gateways chat in the lobby as guests, with Socket.IO members listening', async () => {
    const [a, b] = cluster.gateways;
    const bob = await connectClient(b!.url, { name: 'bob' });
    await bob.ok('room:join', { room: 'lobby' });
    const first = await openSeed(seedUrl(a!.url));
    const second = await openSeed(seedUrl(b!.url));
    // Both are lobby members (bob saw them join) before anyone speaks.
    await eventually(() =>
      expect(bob.presence.filter((p) => p.room === 'lobby' && p.state === 'joined')).toHaveLength(2),
    );

    first.ws.send('hello from the old page');
    const line = await lineMatching(second, /: hello from the old page$/);
    expect(line).toMatch(/^from guest-[0-9a-f]{4}: hello from the old page$/);
    expect(await lineMatching(first, /: hello from the old page$/)).toBe(line);
    const [received] = await waitForMessages(bob, 'lobby', 1);
    expect(received).toMatchObject({ room: 'lobby', text: 'hello from the old page' });
    expect(line).toBe(`from ${received!.user.name}: hello from the old page`);

    await bob.ok('message:send', { room: 'lobby', text: 'welcome back' });
    for (const client of [first, second]) await lineMatching(client, /^from bob: welcome back$/);
  });

  it("refuses a root-path upgrade from another site's page or for an unknown host, like /ws", async () => {
    const [a] = cluster.gateways;
    const host = new URL(a!.url).host;
    expect(await upgradeStatus(a!.url, '/', { Origin: 'http://evil.example' })).toBe(403);
    expect(await upgradeStatus(a!.url, '/ws', { Origin: 'http://evil.example' })).toBe(403);
    expect(await upgradeStatus(a!.url, '/', { Host: 'evil.example', Origin: 'http://evil.example' })).toBe(
      421,
    );
    expect(await upgradeStatus(a!.url, '/', { Origin: `http://${host}` })).toBe(101);
  });

  it('keeps Socket.IO and /ws working beside it, and still refuses upgrades at other paths with 404', async () => {
    const [a] = cluster.gateways;
    const viaRoot = await openSeed(seedUrl(a!.url));
    const viaWs = await connectPlain(a!.url, { name: 'wanda' });
    const sio = await connectClient(a!.url, { name: 'sio' });
    await sio.ok('room:join', { room: 'lobby' });

    viaRoot.ws.send('root');
    viaWs.send('ws path');
    await eventually(() => expect(sio.inRoom('lobby').map((m) => m.text)).toEqual(['root', 'ws path']));
    await eventually(() => expect(viaWs.lines).toHaveLength(2));
    expect(viaWs.lines[1]).toBe('from wanda: ws path');
    for (const path of ['/nope', '/ws/extra', '/index.html'])
      expect(await upgradeStatus(a!.url, path)).toBe(404);
  });

  it('works from the seed page itself in Chromium, served by the gateway like the seed served it', async () => {
    const [a, b] = cluster.gateways;
    const bob = await connectClient(b!.url, { name: 'bob' });
    await bob.ok('room:join', { room: 'lobby' });
    const browser = await launchBrowser();
    try {
      const tab = await (await browser.newContext()).newPage();
      await tab.goto(`${a!.url}/seed.html`);
      const [received] = await waitForMessages(bob, 'lobby', 1);
      expect(received).toMatchObject({ text: 'typed in the old page', user: { name: expect.any(String) } });
      await bob.ok('message:send', { room: 'lobby', text: 'seen it' });
      await tab.getByText('from bob: seen it').waitFor({ timeout: 5_000 });
      expect(await tab.locator('#log li').allTextContents()).toEqual([
        `from ${received!.user.name}: typed in the old page`,
        'from bob: seen it',
      ]);
    } finally {
      await browser.close();
    }
  });
});
