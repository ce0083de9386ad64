import { type ChorusClient, createChorusClient } from '@chorus/client';
import type { ChatMessage } from '@chorus/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { useCluster } from '../support/hooks';
import { AUDIENCE, hsToken, ISSUER, JWT_SECRET } from '../support/identity';
import { eventually, sleep } from '../support/wait';

const cluster = useCluster({ gateways: 3, auth: { secret: JWT_SECRET, issuer: ISSUER, audience: AUDIENCE } });
const clients: ChorusClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

function sdk(token: Parameters<typeof createChorusClient>[0]['token']) {
  const client = createChorusClient({
    urls: cluster.gateways.map((g) => g.url),
    token,
    reconnectDelayMs: { min: 20, max: 200 },
    ackTimeoutMs: 2_000,
  });
  clients.push(client);
  const received: ChatMessage[] = [];
  client.on('message', (m) => received.push(m));
  return { client, received };
}

describe('a token that expires mid-session', () => {
  it('is refreshed by the SDK, which resumes and loses, repeats and reorders nothing', async () => {
    let minted = 0;
    // Tokens good for two seconds: the sender's connection is closed by its gateway twice during the run.
    const sender = sdk(async () => {
      minted += 1;
      return hsToken('sender', { name: 'Sender' }, { expiresIn: Math.floor(Date.now() / 1000) + 2 });
    });
    const reader = sdk(await hsToken('reader'));
    const expired: string[] = [];
    sender.client.on('expired', (event) => expired.push(event.node));
    await sender.client.join('stream');
    await reader.client.join('stream');

    const sends: Promise<ChatMessage>[] = [];
    const started = Date.now();
    for (let i = 0; Date.now() - started < 4_500; i++) {
      sends.push(sender.client.send('stream', `m${i}`));
      await sleep(40);
    }
    const acked = await Promise.all(sends);
    const texts = acked.map((m) => m.text);
    expect(expired.length).toBeGreaterThanOrEqual(1);
    expect(minted).toBeGreaterThanOrEqual(2);
    // Stored in the order sent, each once.
    expect([...acked].sort((x, y) => x.seq - y.seq).map((m) => m.text)).toEqual(texts);
    expect(new Set(acked.map((m) => m.seq)).size).toBe(acked.length);
    for (const { received } of [sender, reader]) {
      await eventually(
        () => expect(received.filter((m) => m.room === 'stream').map((m) => m.text)).toEqual(texts),
        {
          timeoutMs: 10_000,
        },
      );
    }
    expect(sender.client.session?.user).toEqual({ id: 'sender', name: 'Sender' });
  });

  it('stops a client whose fixed token is refused, saying why', async () => {
    const stale = sdk(await hsToken('late', {}, { expiresIn: Math.floor(Date.now() / 1000) - 30 }));
    const refusals: string[] = [];
    stale.client.on('unauthorized', (event) => refusals.push(event.message));
    await eventually(() => expect(stale.client.state).toBe('closed'));
    expect(refusals).toEqual([expect.stringMatching(/expired/)]);
  });
});
