import { describe, expect, it } from 'vitest';
import { createMetrics, timed } from './metrics';

/** The value of the sample `name{labels}` in the text exposition, or undefined when it is absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[3]);
  }
  return undefined;
}

describe('createMetrics', () => {
  it('labels every chorus series with the node and keeps gateways of one process apart', async () => {
    const a = createMetrics('gw-a', { processMetrics: false });
    const b = createMetrics('gw-b', { processMetrics: false });
    a.messagesIn.inc(3);
    b.messagesIn.inc();
    const textA = await a.registry.metrics();
    expect(sample(textA, 'chorus_messages_in_total', { node: 'gw-a' })).toBe(3);
    expect(textA).not.toContain('gw-b');
    expect(sample(await b.registry.metrics(), 'chorus_messages_in_total', { node: 'gw-b' })).toBe(1);
  });

  it('exposes every chorus metric, counters at zero from the start', async () => {
    const text = await createMetrics('n', { processMetrics: false }).registry.metrics();
    for (const name of [
      'chorus_connections',
      'chorus_rooms_local',
      'chorus_room_members_local',
      'chorus_messages_in_total',
      'chorus_messages_out_total',
      'chorus_ack_latency_seconds',
      'chorus_fanout_latency_seconds',
      'chorus_adapter_publish_seconds',
      'chorus_redis_errors_total',
      'chorus_redis_reconnects_total',
      'chorus_rate_limited_total',
      'chorus_feed_resyncs_total',
      'chorus_invalid_payloads_total',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(sample(text, 'chorus_rate_limited_total')).toBe(0);
    expect(sample(text, 'chorus_invalid_payloads_total', { transport: 'plain' })).toBe(0);
  });

  it('reads the load gauges from the gateway when scraped', async () => {
    const metrics = createMetrics('n', { processMetrics: false });
    let load = { socketio: 2, plain: 1, rooms: 2, members: 4 };
    metrics.observeLoad(() => load);
    let text = await metrics.registry.metrics();
    expect(sample(text, 'chorus_connections', { transport: 'socketio' })).toBe(2);
    expect(sample(text, 'chorus_connections', { transport: 'plain' })).toBe(1);
    expect(sample(text, 'chorus_rooms_local')).toBe(2);
    expect(sample(text, 'chorus_room_members_local')).toBe(4);
    load = { socketio: 0, plain: 0, rooms: 0, members: 0 };
    text = await metrics.registry.metrics();
    expect(sample(text, 'chorus_connections', { transport: 'socketio' })).toBe(0);
    expect(metrics.load()).toEqual(load);
  });

  it('adds the message counters up for rates', async () => {
    const metrics = createMetrics('n', { processMetrics: false });
    metrics.messagesIn.inc(2);
    metrics.messagesOut.inc(5);
    expect(await metrics.totals()).toEqual({ messagesIn: 2, messagesOut: 5 });
  });

  it('times work with its outcome and passes its result or error on', async () => {
    const metrics = createMetrics('n', { processMetrics: false });
    expect(await timed(metrics.adapterPublish, async () => 42)).toBe(42);
    await expect(
      timed(metrics.adapterPublish, async () => {
        throw new Error('down');
      }),
    ).rejects.toThrow('down');
    const text = await metrics.registry.metrics();
    expect(sample(text, 'chorus_adapter_publish_seconds_count', { outcome: 'ok' })).toBe(1);
    expect(sample(text, 'chorus_adapter_publish_seconds_count', { outcome: 'error' })).toBe(1);
  });

  it('includes the process metrics, event-loop delay percentiles among them, by default', async () => {
    const metrics = createMetrics('n');
    const text = await metrics.registry.metrics();
    expect(text).toContain('# TYPE nodejs_eventloop_lag_p99_seconds gauge');
    expect(text).toContain('# TYPE process_cpu_seconds_total counter');
    expect(metrics.registry.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });
});
