import { type ChorusClient, createChorusClient } from '@chorus/client';
import type { ChatMessage } from '@chorus/protocol';
import { DeliveryHistory } from './delivery-history';
import { recordRaw } from './participants';
import { checkRaw } from './raw-checker';

/** An SDK client under test that records what its application sees, and when it had to reconnect. */
export interface Chatter {
  readonly name: string;
  readonly transport: 'websocket' | 'polling';
  readonly client: ChorusClient;
  readonly rooms: string[];
  /** Every `message` the SDK emitted, in order. */
  readonly received: ChatMessage[];
  /** When the connection was lost (each `state: reconnecting`). */
  readonly drops: number[];
  /** Rooms the SDK had to reload (`reset`): history was lost or trimmed. */
  readonly resets: string[];
  /** The gateway holding the connection now (`session.node`). */
  node(): string | undefined;
  /**
   * Joins `rooms` together. (Call it once, right after creating the chatter: the SDK version of this writing
   * does not send a join made while it is still rejoining after connect, so a second `join` could hang.)
   */
  join(...rooms: string[]): Promise<void>;
  /** Sends the next numbered message to `room` through the SDK's outbox; the ledger records the ack. */
  send(room: string): void;
}

/**
 * Acked sends of every chatter, and the check of the delivery guarantee for members that joined before the
 * first send and stayed: each receives every acked message of its rooms exactly once, and no send is stored
 * twice; and, before the SDK's dedupe, no connection receives a message twice or out of order.
 */
export class ChatLedger {
  readonly acked = new Map<string, ChatMessage>();
  readonly failed: string[] = [];
  private readonly chatters: Chatter[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Only its raw arrivals are used: what reached each chatter's connections before the SDK's dedupe. */
  private readonly wire = new DeliveryHistory();

  /**
   * A chatter on `urls`. Polling chatters rely on the SDK keeping cookies by default, which balancer
   * stickiness needs: the load-balancer test fails if that default goes.
   */
  chatter(urls: string[], name: string, transport: 'websocket' | 'polling'): Chatter {
    const client = createChorusClient({
      urls,
      name,
      transports: [transport],
      ackTimeoutMs: 3_000,
    });
    const received: ChatMessage[] = [];
    const drops: number[] = [];
    const resets: string[] = [];
    const rooms: string[] = [];
    let count = 0;
    client.on('message', (m) => received.push(m));
    client.on('raw', (arrival) => recordRaw(this.wire, name, arrival));
    client.on('state', (state) => {
      if (state === 'reconnecting') drops.push(Date.now());
    });
    client.on('reset', (e) => resets.push(e.room));
    const chatter: Chatter = {
      name,
      transport,
      client,
      rooms,
      received,
      drops,
      resets,
      node: () => client.session?.node,
      async join(...names) {
        await Promise.all(names.map((room) => client.join(room)));
        rooms.push(...names);
      },
      send: (room) => {
        count += 1;
        const clientMsgId = `${name}.${count}`;
        const sending = client.send(room, `${name} #${count}`, { clientMsgId }).then(
          (message) => {
            this.acked.set(clientMsgId, message);
          },
          (error: { code?: string }) => {
            this.failed.push(`${clientMsgId}: ${error.code ?? String(error)}`);
          },
        );
        this.inFlight.add(sending);
        void sending.finally(() => this.inFlight.delete(sending));
      },
    };
    this.chatters.push(chatter);
    return chatter;
  }

  /** Resolves once every send so far has been acknowledged or failed. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** Problems with the guarantee right now; empty when every member has every acked message once. */
  problems(): string[] {
    const problems: string[] = [...this.failed.map((f) => `send failed ${f}`)];
    const raw = checkRaw(this.wire.raw);
    for (const [kind, found] of Object.entries({
      'raw duplicate': raw.rawDuplicates,
      'raw out of order': raw.rawOutOfOrder,
      'bad resume': raw.rawBadResumes,
    })) {
      for (const a of found) {
        problems.push(
          `${kind}: ${a.client} on ${a.connection} got ${a.room} ${a.epoch}:${a.seq} (${a.detail})`,
        );
      }
    }
    const stored = new Map<string, string>();
    for (const [id, m] of this.acked) {
      const key = `${m.room}#${m.seq}`;
      const other = stored.get(key);
      if (other) problems.push(`${id} and ${other} were both acked as ${key}`);
      stored.set(key, id);
    }
    for (const chatter of this.chatters) {
      const seen = new Map<string, number>();
      for (const m of chatter.received) {
        const key = `${m.room}#${m.epoch}#${m.seq}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
      }
      const byClientMsgId = new Map<string, number>();
      for (const m of chatter.received) {
        if (m.clientMsgId) byClientMsgId.set(m.clientMsgId, (byClientMsgId.get(m.clientMsgId) ?? 0) + 1);
      }
      for (const [id, times] of byClientMsgId) {
        if (times > 1) problems.push(`${chatter.name} received ${id} ${times} times`);
      }
      for (const [id, m] of this.acked) {
        if (!chatter.rooms.includes(m.room)) continue;
        const times = seen.get(`${m.room}#${m.epoch}#${m.seq}`) ?? 0;
        if (times !== 1)
          problems.push(`${chatter.name} received acked ${id} (${m.room}#${m.seq}) ${times} times`);
      }
    }
    return problems;
  }

  close(): void {
    for (const chatter of this.chatters.splice(0)) chatter.client.close();
  }
}
