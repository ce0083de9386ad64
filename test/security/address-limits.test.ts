import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { connectClient } from '../support/clients';
import { useCluster } from '../support/hooks';
import { connectRawSocketIo } from '../support/hostile-clients';
import { useSecurityWatch } from '../support/security-watch';
import { eventually, sleep } from '../support/wait';

// Small limits so a test can pass them; every client here is 127.0.0.1 (a trusted proxy): the address is
// what X-Forwarded-For says, as behind the balancers.
const cluster = useCluster({
  gateways: 2,
  addressLimits: {
    maxConnections: 5,
    sends: { perSecond: 10, burst: 20 },
    newRooms: { perSecond: 1, burst: 3 },
  },
  requestLimits: { perSecond: 1_000, burst: 1_000, maxInflight: 100 },
});
useSecurityWatch();

const from = (address: string) => ({ extraHeaders: { 'x-forwarded-for': address } });

describe('limits per client address, across the cluster', () => {
  it('refuses the connection past the cap on either gateway and transport, and counts closed ones out', async () => {
    const [a, b] = cluster.gateways;
    const open = [];
    for (let i = 0; i < 5; i++)
      open.push(await connectClient((i % 2 ? b : a)!.url, { name: `c${i}`, ...from('198.51.100.1') }));
    await expect(connectClient(a!.url, { name: 'c6', ...from('198.51.100.1') })).rejects.toThrow(
      /too many connections from your address/,
    );
    await expect(connectClient(b!.url, { name: 'c7', ...from('198.51.100.1') })).rejects.toThrow(
      /too many connections/,
    );
    const plain = new WebSocket(`${b!.url.replace(/^http/, 'ws')}/ws?room=lobby`, {
      headers: { 'x-forwarded-for': '198.51.100.1' },
    });
    expect(
      await new Promise((resolve) => plain.once('unexpected-response', (_q, res) => resolve(res.statusCode))),
    ).toBe(429);
    // Another address is not affected; and a closed connection frees its place.
    await connectClient(a!.url, { name: 'other', ...from('198.51.100.2') });
    open[0]!.close();
    await eventually(() => connectClient(b!.url, { name: 'again', ...from('198.51.100.1') }), {
      timeoutMs: 5_000,
    });
  });

  it('holds sends from one address to its budget summed over its connections on both gateways', async () => {
    const [a, b] = cluster.gateways;
    const senders = await Promise.all(
      [a, b, a, b].map((g, i) => connectClient(g!.url, { name: `s${i}`, ...from('198.51.100.3') })),
    );
    for (const s of senders) await s.ok('room:join', { room: 'budget' });
    // 30 sends a second for 4 s, over both gateways, against 10/s with bursts of 20 (windows of 2 s).
    const answers: Promise<{ ok: boolean }>[] = [];
    for (let i = 0; i < 120; i++) {
      answers.push(senders[i % 4]!.request('message:send', { room: 'budget', text: `m${i}` }));
      await sleep(1000 / 30);
    }
    const settled = await Promise.all(answers);
    const accepted = settled.filter((x) => x.ok).length;
    // One gateway alone would take 20 per window of its own; the two together are held near 20 per window
    // (2 or 3 windows in 4 s), a little more while they learn of each other's use (every 250 ms).
    expect(accepted).toBeGreaterThanOrEqual(35);
    expect(accepted).toBeLessThanOrEqual(75);
    const refused = settled.find((x) => !x.ok);
    expect(refused).toEqual({
      ok: false,
      error: {
        code: 'RATE_LIMITED',
        message: 'too many messages from your address, slow down',
        retryAfterMs: expect.any(Number),
      },
    });
    // Someone else, from another address, is served.
    const bystander = await connectClient(b!.url, { name: 'bystander', ...from('198.51.100.4') });
    await bystander.ok('room:join', { room: 'budget' });
    await bystander.ok('message:send', { room: 'budget', text: 'still fine' });
  });

  it("holds one user's sends to the same budget whatever addresses and gateways they come from", async () => {
    const [a, b] = cluster.gateways;
    const first = await connectClient(a!.url, { name: 'roamer', ...from('198.51.100.10') });
    const auth = { guestToken: first.session.guestToken };
    const senders = [first];
    for (let i = 1; i < 4; i++) {
      senders.push(await connectClient((i % 2 ? b : a)!.url, { auth, ...from(`198.51.100.${10 + i}`) }));
    }
    expect(new Set(senders.map((s) => s.session.user.id)).size).toBe(1);
    for (const s of senders) await s.ok('room:join', { room: 'user-budget' });
    const answers: Promise<{ ok: boolean }>[] = [];
    for (let i = 0; i < 120; i++) {
      answers.push(senders[i % 4]!.request('message:send', { room: 'user-budget', text: `m${i}` }));
      await sleep(1000 / 30);
    }
    const settled = await Promise.all(answers);
    const accepted = settled.filter((x) => x.ok).length;
    expect(accepted).toBeGreaterThanOrEqual(35);
    expect(accepted).toBeLessThanOrEqual(75);
    expect(settled.find((x) => !x.ok)).toMatchObject({
      ok: false,
      error: { code: 'RATE_LIMITED', message: 'too many messages from your account, slow down' },
    });
  });

  it('lets an address bring only a few new rooms into being, while joining existing ones stays free', async () => {
    const [a] = cluster.gateways;
    const host = await connectClient(a!.url, { name: 'host', ...from('198.51.100.5') });
    for (let i = 0; i < 3; i++) await host.ok('room:join', { room: `fresh-${i}` });
    const refused = await host.request('room:join', { room: 'fresh-3' });
    expect(refused).toMatchObject({
      ok: false,
      error: { code: 'RATE_LIMITED', message: 'too many new rooms from your address' },
    });
    // The refused join left nothing behind: not a member, not a listed room.
    expect((await host.ok('rooms:list', {})).rooms.map((r) => r.room)).not.toContain('fresh-3');
    const raw = await connectRawSocketIo(a!.url);
    // An existing room (someone is in it) costs no budget.
    expect(await raw.request('room:join', '{"room":"fresh-0"}')).toMatchObject({ ok: true });
  });
});
