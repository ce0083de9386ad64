import { randomBytes } from 'node:crypto';
import { ChorusError, type DmOpenedEvent, type TypingEvent } from '@chorus/protocol';
import type { RedisClient } from '../redis/connect';
import { withRedis } from '../redis/errors';
import {
  type AnnouncedPresence,
  type BusListener,
  dispatchFrame,
  encodeDirect,
  encodePresence,
  encodeTyping,
  type RoomBus,
  roomChannel,
} from './room-bus';

export interface RedisRoomBusOptions {
  /** Prefix of every key and channel, e.g. `chorus:`. */
  prefix: string;
  /** How often the bus probes itself (default 1000 ms)… */
  probeIntervalMs?: number;
  /** …and after how long without any frame it counts as stalled and is reconnected (default 5000 ms). */
  stallMs?: number;
  /** Longest wait for a room subscription before a join is answered `UNAVAILABLE` (default 3000 ms). */
  subscribeTimeoutMs?: number;
}

/**
 * The cluster bus on Redis sharded pub/sub: one `SSUBSCRIBE` per room this gateway hosts a member of, on a
 * channel in the room's hash slot; presence events go out with `SPUBLISH`, messages from the append script.
 */
export class RedisRoomBus implements RoomBus {
  readonly #commands: RedisClient;
  readonly #subscriber: RedisClient;
  readonly #prefix: string;
  readonly #probeChannel: string;
  readonly #probeIntervalMs: number;
  readonly #stallMs: number;
  readonly #subscribeTimeoutMs: number;
  #probe: NodeJS.Timeout | undefined;
  /** When the subscriber last delivered a frame of any kind: a busy link is a live link. */
  #lastFrameAt = Date.now();
  /** Probe replies in a row that found the subscriber silent; two are needed to call it stalled. */
  #silentChecks = 0;
  /** Set when the bus may have missed frames; cleared (with a resync) by the next probe that arrives. */
  #needsResync = false;

  /**
   * @param commands connection for publishing.
   * @param subscriber a connection this bus may put into subscriber mode; nobody else may use it.
   */
  constructor(commands: RedisClient, subscriber: RedisClient, options: RedisRoomBusOptions) {
    this.#commands = commands;
    this.#subscriber = subscriber;
    this.#prefix = options.prefix;
    // A tag of its own: on a Redis Cluster the probe tests the link to one shard, like any room's channel.
    this.#probeChannel = `${options.prefix}probe:{${randomBytes(6).toString('hex')}}`;
    this.#probeIntervalMs = options.probeIntervalMs ?? 1_000;
    this.#stallMs = options.stallMs ?? 5_000;
    this.#subscribeTimeoutMs = options.subscribeTimeoutMs ?? 3_000;
  }

  // The bus proves it delivers by publishing a probe to itself every second through the commands connection.
  // A subscriber that reconnects, or that is connected but delivers nothing at all for `stallMs`, may have
  // missed frames: it is reconnected if needed, and once a probe arrives again (so the subscriptions are live,
  // ioredis having renewed them) the listener is told to resync from the log.
  async listen(listener: BusListener): Promise<void> {
    this.#subscriber.on('smessage', (channel: string, frame: string) => {
      this.#lastFrameAt = Date.now();
      if (channel === this.#probeChannel) {
        if (this.#needsResync) {
          this.#needsResync = false;
          listener.resync();
        }
        return;
      }
      try {
        dispatchFrame(frame, listener);
      } catch {
        // Not a frame of ours (someone else publishing on the channel): nothing to deliver.
      }
    });
    let connectedOnce = false;
    this.#subscriber.on('ready', () => {
      if (connectedOnce) this.#needsResync = true;
      connectedOnce = true;
    });
    this.#subscriber.on('close', () => {
      this.#needsResync = true;
    });
    // On a Redis Cluster each shard has its own subscriber connection, which ioredis replaces when a master
    // fails over or a connection drops; whatever that shard published meanwhile may be lost.
    for (const event of ['-subscriber', '+subscriber', '-node']) {
      this.#subscriber.on(event, () => {
        this.#needsResync = true;
      });
    }
    await withRedis(async () => {
      await this.#subscriber.ssubscribe(this.#probeChannel);
    });
    connectedOnce = true;
    this.#lastFrameAt = Date.now();
    this.#probe = setInterval(() => this.#sendProbe(), this.#probeIntervalMs);
    this.#probe.unref();
  }

  async subscribe(room: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ChorusError('UNAVAILABLE', 'storage is unavailable, retry later')),
        this.#subscribeTimeoutMs,
      );
    });
    try {
      await Promise.race([
        withRedis(() => this.#subscriber.ssubscribe(roomChannel(this.#prefix, room))),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  unsubscribe(room: string): void {
    // Queued behind any subscribe of the same room on the same connection, so the last call wins.
    this.#subscriber.sunsubscribe(roomChannel(this.#prefix, room)).catch(() => {});
  }

  async publishPresence(changes: readonly AnnouncedPresence[]): Promise<void> {
    const room = changes[0]?.event.room;
    if (room === undefined) return;
    await withRedis(() => this.#commands.spublish(roomChannel(this.#prefix, room), encodePresence(changes)));
  }

  async publishTyping(event: TypingEvent, except?: string): Promise<void> {
    await withRedis(() =>
      this.#commands.spublish(roomChannel(this.#prefix, event.room), encodeTyping(event, except)),
    );
  }

  async publishDirect(inbox: string, event: DmOpenedEvent): Promise<void> {
    await withRedis(() =>
      this.#commands.spublish(roomChannel(this.#prefix, inbox), encodeDirect(inbox, event)),
    );
  }

  healthy(): boolean {
    return this.#subscriber.status === 'ready' && Date.now() - this.#lastFrameAt < this.#stallMs;
  }

  close(): void {
    clearInterval(this.#probe);
  }

  #sendProbe(): void {
    if (this.#commands.status !== 'ready') return;
    this.#commands.spublish(this.#probeChannel, '').then(
      () => {
        // Redis took the probe. A subscriber that delivered nothing since well before is half-dead; but an
        // event loop that was blocked reads the subscriber's backlog only after this reply, so one silent check
        // proves nothing: it takes two in a row, with the subscriber's data read in between.
        const silent = Date.now() - this.#lastFrameAt > this.#stallMs;
        this.#silentChecks = silent ? this.#silentChecks + 1 : 0;
        if (this.#silentChecks >= 2 && this.#subscriber.status === 'ready') {
          this.#silentChecks = 0;
          this.#needsResync = true;
          this.#lastFrameAt = Date.now();
          this.#subscriber.disconnect(true);
        }
      },
      () => {},
    );
  }
}
