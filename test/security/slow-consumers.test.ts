import { LIMITS } from '@chorus/protocol';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { connectClient, waitForMessages } from '../support/clients';
import { useCluster } from '../support/hooks';
import { connectRawSocketIo } from '../support/hostile-clients';
import { metricSum, scrapeMetrics } from '../support/metrics';
import { useSecurityWatch } from '../support/security-watch';
import { eventually } from '../support/wait';

// A small cap so a few MB of chat fill it; the kernel's socket buffers take several MB first.
const cluster = useCluster({
  gateways: 2,
  maxBufferedBytes: 256 * 1024,
  requestLimits: { perSecond: 10_000, burst: 10_000, maxInflight: 1_000 },
});
useSecurityWatch();
const LONG = '語'.repeat(LIMITS.textMax);

const connectionsOn = async (url: string) => metricSum(await scrapeMetrics(url), 'chorus_connections');

describe('a client that stops reading', () => {
  it('is closed once its unsent output passes the cap, on Socket.IO and /ws, while the others keep up', async () => {
    const [a, b] = cluster.gateways;
    const slow = await connectRawSocketIo(a!.url);
    expect(await slow.request('room:join', '{"room":"firehose"}')).toMatchObject({ ok: true });
    const plain = new WebSocket(`${a!.url.replace(/^http/, 'ws')}/ws?room=firehose&name=slowpoke`);
    await new Promise((resolve) => plain.once('open', resolve));
    const reader = await connectClient(a!.url, { name: 'reader' });
    await reader.ok('room:join', { room: 'firehose' });
    const writer = await connectClient(b!.url, { name: 'writer' });
    await writer.ok('room:join', { room: 'firehose' });
    await eventually(() => expect(slow.isOpen()).toBe(true));

    slow.stopReading();
    (plain as unknown as { _socket: { pause(): void } })._socket.pause();
    // 1,500 messages of 12 KB: 18 MB for each reader.
    const latencies: number[] = [];
    for (let i = 0; i < 1_500; i++) {
      const started = performance.now();
      await writer.ok('message:send', { room: 'firehose', text: LONG });
      latencies.push(performance.now() - started);
      if (i % 50 === 0 && (await connectionsOn(a!.url)) === 1) break;
    }
    // The gateway dropped both; only the reader is left on it (the paused clients see it once they read).
    await eventually(async () => expect(await connectionsOn(a!.url)).toBe(1), { timeoutMs: 10_000 });
    const sent = latencies.length;
    // Everyone else got everything, and the sender was never held up for long.
    expect(await waitForMessages(reader, 'firehose', sent, 20_000)).toHaveLength(sent);
    latencies.sort((x, y) => x - y);
    expect(latencies[Math.floor(latencies.length * 0.99)]!).toBeLessThan(1_000);
    const samples = await scrapeMetrics(a!.url);
    expect(metricSum(samples, 'chorus_slow_consumers_total', { transport: 'socketio' })).toBe(1);
    expect(metricSum(samples, 'chorus_slow_consumers_total', { transport: 'plain' })).toBe(1);
    expect(reader.socket.connected).toBe(true);
  }, 60_000);
});
