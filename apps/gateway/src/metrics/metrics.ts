import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** What this gateway holds right now, read when metrics are scraped and when cluster stats are reported. */
export interface LocalLoad {
  /** Open Socket.IO connections. */
  socketio: number;
  /** Open plain WebSocket (`/ws`) connections. */
  plain: number;
  /** Rooms with at least one local member. */
  rooms: number;
  /** Local memberships: connections summed over rooms (a connection in three rooms counts three times). */
  members: number;
}

/**
 * One gateway's Prometheus metrics, in a registry of its own (never prom-client's global one: tests run several
 * gateways in one process). Every series carries the label `node`.
 */
export interface GatewayMetrics {
  readonly registry: Registry;
  /** Sends accepted and appended to a room's log (idempotent repeats of an accepted send are not counted). */
  readonly messagesIn: Counter;
  /** Messages handed to local connections: one per message per local recipient (socket or plain client). */
  readonly messagesOut: Counter;
  /** Time from a request's arrival to its ack, by `event` and `outcome` (`ok` or the error code). */
  readonly ackLatency: Histogram<'event' | 'outcome'>;
  /** Time from a message's server timestamp (set on the sending gateway) to its delivery on this gateway. */
  readonly fanoutLatency: Histogram;
  /** Duration of the append (one Redis script: idempotency check, seq, XADD, PUBLISH), by `outcome`. */
  readonly adapterPublish: Histogram<'outcome'>;
  /** Error events of a Redis connection (each failed reconnect attempt counts), by connection `role`. */
  readonly redisErrors: Counter<'role'>;
  /** Reconnect attempts of a Redis connection, by `role`. */
  readonly redisReconnects: Counter<'role'>;
  /** Sends refused with `RATE_LIMITED`. */
  readonly rateLimited: Counter;
  /** Times the cluster feed was interrupted and every local room caught up from the log. */
  readonly feedResyncs: Counter;
  readonly busFrames: Counter<'kind'>;
  readonly rebalanced: Counter;
  readonly slowConsumers: Counter<'transport'>;
  readonly connectionSpread: Gauge;
  /** Payloads refused as invalid (schema, unknown event, missing ack, bad plain frame), by `transport`. */
  readonly invalidPayloads: Counter<'transport'>;
  /** Tells the load gauges where to read this gateway's load; the gateway calls it once. */
  observeLoad(read: () => LocalLoad): void;
  /** The current load (zeros until `observeLoad`). */
  load(): LocalLoad;
  /** Totals of the message counters, for rates. */
  totals(): Promise<{ messagesIn: number; messagesOut: number }>;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const REDIS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 3];

export interface MetricsOptions {
  /**
   * Also collect prom-client's process metrics (CPU, memory, GC, handles, event-loop delay with p50/p90/p99);
   * default true. Each collection runs its own event-loop monitor for the life of the process.
   */
  processMetrics?: boolean;
}

/**
 * How often the event-loop delay (`nodejs_eventloop_lag_*`) is sampled. prom-client's default, 10 ms, wakes an
 * idle gateway 100 times a second: measured with `npm run bench -- --targets chorus-3,classic --scenarios
 * no-member-gateway`, a gateway without members spent 17 ms of CPU a second at 10 ms and 8 ms at 100 ms. Ten
 * samples a second still give the lag's percentiles between two scrapes.
 */
const EVENT_LOOP_SAMPLE_MS = 100;

/**
 * Builds the metrics of the gateway `nodeId`.
 *
 * @example
 * const metrics = createMetrics('gw-1');
 * metrics.messagesIn.inc();
 * const text = await metrics.registry.metrics(); // served at GET /metrics
 */
export function createMetrics(nodeId: string, options: MetricsOptions = {}): GatewayMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ node: nodeId });
  if (options.processMetrics ?? true)
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  const registers = [registry];

  let readLoad: () => LocalLoad = () => ({ socketio: 0, plain: 0, rooms: 0, members: 0 });

  new Gauge({
    name: 'chorus_connections',
    help: 'Open client connections on this gateway, by transport (socketio, plain).',
    labelNames: ['transport'],
    registers,
    collect() {
      const load = readLoad();
      this.set({ transport: 'socketio' }, load.socketio);
      this.set({ transport: 'plain' }, load.plain);
    },
  });
  new Gauge({
    name: 'chorus_rooms_local',
    help: 'Rooms with at least one member connected to this gateway.',
    registers,
    collect() {
      this.set(readLoad().rooms);
    },
  });
  new Gauge({
    name: 'chorus_room_members_local',
    help: 'Room memberships of connections on this gateway (a connection counts once per room it is in).',
    registers,
    collect() {
      this.set(readLoad().members);
    },
  });

  const messagesIn = new Counter({
    name: 'chorus_messages_in_total',
    help: 'Messages accepted from clients of this gateway and appended to their room (repeats of an accepted send not counted).',
    registers,
  });
  const messagesOut = new Counter({
    name: 'chorus_messages_out_total',
    help: 'Messages delivered to connections of this gateway: one per message per local recipient.',
    registers,
  });

  const invalidPayloads = new Counter({
    name: 'chorus_invalid_payloads_total',
    help: 'Requests or frames refused as invalid (schema, unknown event, missing ack, bad plain frame), by transport.',
    labelNames: ['transport'],
    registers,
  });
  // Series that exist from the start, so rate() sees the first increment.
  for (const transport of ['socketio', 'plain']) invalidPayloads.inc({ transport }, 0);

  const sum = async (counter: Counter) => (await counter.get()).values.reduce((n, v) => n + v.value, 0);

  return {
    registry,
    messagesIn,
    messagesOut,
    ackLatency: new Histogram({
      name: 'chorus_ack_latency_seconds',
      help: 'Time from a Socket.IO request arriving to its ack being sent, by event and outcome (ok or error code).',
      labelNames: ['event', 'outcome'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    fanoutLatency: new Histogram({
      name: 'chorus_fanout_latency_seconds',
      help: "Time from a message's server timestamp (taken on the sending gateway) to its delivery to this gateway's members.",
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    adapterPublish: new Histogram({
      name: 'chorus_adapter_publish_seconds',
      help: 'Duration of a message append: idempotency check, seq, stream write and publish (one Redis script), by outcome.',
      labelNames: ['outcome'],
      buckets: REDIS_BUCKETS,
      registers,
    }),
    redisErrors: new Counter({
      name: 'chorus_redis_errors_total',
      help: 'Error events of Redis connections (every failed reconnect attempt counts), by connection role.',
      labelNames: ['role'],
      registers,
    }),
    redisReconnects: new Counter({
      name: 'chorus_redis_reconnects_total',
      help: 'Reconnect attempts of Redis connections, by connection role.',
      labelNames: ['role'],
      registers,
    }),
    rateLimited: new Counter({
      name: 'chorus_rate_limited_total',
      help: 'Sends refused with RATE_LIMITED.',
      registers,
    }),
    feedResyncs: new Counter({
      name: 'chorus_feed_resyncs_total',
      help: 'Times the cluster message feed was interrupted and every local room caught up from the log.',
      registers,
    }),
    busFrames: new Counter({
      name: 'chorus_bus_frames_total',
      help: 'Frames this gateway heard on the room bus, by kind (message, presence): only rooms it hosts members of.',
      labelNames: ['kind'],
      registers,
    }),
    slowConsumers: new Counter({
      name: 'chorus_slow_consumers_total',
      help: 'Connections closed because they had more unsent output than MAX_BUFFERED_BYTES (they stopped reading), by transport.',
      labelNames: ['transport'],
      registers,
    }),
    rebalanced: new Counter({
      name: 'chorus_rebalanced_connections_total',
      help: 'Connections this gateway moved off (transport closed, client resumes elsewhere) because it carried more than its share.',
      registers,
    }),
    connectionSpread: new Gauge({
      name: 'chorus_connection_spread_ratio',
      help: "Largest distance of any live gateway's connections from the cluster average, as a ratio of the average (0.2 = 20%).",
      registers,
    }),
    invalidPayloads,
    observeLoad(read) {
      readLoad = read;
    },
    load: () => readLoad(),
    totals: async () => ({ messagesIn: await sum(messagesIn), messagesOut: await sum(messagesOut) }),
  };
}

/** Runs `work` and records how long it took in `histogram`, with `outcome` `ok` or `error`. */
export async function timed<T>(histogram: Histogram<'outcome'>, work: () => Promise<T>): Promise<T> {
  const done = histogram.startTimer();
  try {
    const value = await work();
    done({ outcome: 'ok' });
    return value;
  } catch (error) {
    done({ outcome: 'error' });
    throw error;
  }
}
