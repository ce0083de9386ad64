import type { ChatMessage } from '@chorus/protocol';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { useRedis } from '../../../../test/support/hooks';
import { uniquePrefix } from '../../../../test/support/redis';
import { startTcpProxy, type TcpProxy } from '../../../../test/support/tcp-proxy';
import { eventually } from '../../../../test/support/wait';
import { RedisMessageStore } from '../chat/message-store.redis';
import { RedisRoomBus } from './room-bus.redis';

const redis = useRedis();
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** A bus whose subscriber reaches Redis through a proxy the test can break, and a listener that records. */
async function storeBehindProxy() {
  const target = new URL(redis.url);
  const proxy: TcpProxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
  const commands = new Redis(redis.url);
  const subscriber = new Redis(proxy.url, { retryStrategy: () => 50 });
  subscriber.on('error', () => {});
  const prefix = uniquePrefix('feed');
  const store = new RedisMessageStore(commands, { prefix });
  const bus = new RedisRoomBus(commands, subscriber, { prefix, probeIntervalMs: 100, stallMs: 800 });
  cleanup.push(() => proxy.close());
  cleanup.push(() => {
    bus.close();
    commands.disconnect();
    subscriber.disconnect();
  });
  const heard: ChatMessage[] = [];
  let resyncs = 0;
  await bus.listen({ message: (m) => heard.push(m), presence: () => {}, resync: () => (resyncs += 1) });
  await bus.subscribe('r');
  const send = (text: string) => store.append({ room: 'r', user: { id: 'u', name: 'n' }, text, ts: 1 });
  return { bus, proxy, heard, send, resyncs: () => resyncs };
}

describe('room bus liveness', () => {
  it('notices a subscription that is connected but no longer delivers, reconnects it and asks for a resync', async () => {
    const { bus, proxy, heard, send, resyncs } = await storeBehindProxy();
    await send('before');
    await eventually(() => expect(heard).toHaveLength(1));
    await eventually(() => expect(bus.healthy()).toBe(true));

    proxy.stall();
    await send('lost in the stalled link');
    await eventually(() => expect(bus.healthy()).toBe(false), { timeoutMs: 3_000 });
    await eventually(() => expect(resyncs()).toBe(1), { timeoutMs: 5_000 });
    expect(bus.healthy()).toBe(true);

    await send('after');
    await eventually(() => expect(heard.map((m) => m.text)).toEqual(['before', 'after']));
  });

  it('asks for a resync once the subscription is back after its connection was cut', async () => {
    const { proxy, heard, send, resyncs } = await storeBehindProxy();
    await send('one');
    await eventually(() => expect(heard).toHaveLength(1));
    proxy.cut();
    await send('two');
    await eventually(() => expect(resyncs()).toBeGreaterThanOrEqual(1), { timeoutMs: 5_000 });
    await send('three');
    await eventually(() => expect(heard.map((m) => m.text)).toContain('three'));
  });
});
