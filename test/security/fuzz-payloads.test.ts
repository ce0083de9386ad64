import { CLIENT_EVENTS, ERROR_CODES } from '@chorus/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectClusterServes } from '../support/bystanders';
import { connectClient } from '../support/clients';
import { useCluster } from '../support/hooks';
import { emitUnchecked } from '../support/hostile-clients';
import { useSecurityWatch } from '../support/security-watch';

const cluster = useCluster({
  gateways: 2,
  requestLimits: { perSecond: 100_000, burst: 100_000, maxInflight: 1_000 },
});
useSecurityWatch();

/** Values near the real payloads (right keys, odd values) as well as anything at all. */
const nearValid = fc.record(
  {
    room: fc.oneof(fc.constantFrom('lobby', 'fuzz', ''), fc.string({ maxLength: 80 }), fc.anything()),
    text: fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ unit: 'binary', maxLength: 50 }),
      fc.anything(),
    ),
    clientMsgId: fc.oneof(fc.string({ maxLength: 70 }), fc.anything()),
    since: fc.oneof(
      fc.record({ epoch: fc.string(), seq: fc.oneof(fc.integer(), fc.double()) }),
      fc.anything(),
    ),
    before: fc.oneof(fc.integer(), fc.double(), fc.anything()),
    limit: fc.oneof(fc.integer({ min: -5, max: 200 }), fc.anything()),
    cursor: fc.oneof(fc.integer({ min: -5, max: 20_000 }), fc.anything()),
    __proto__: fc.anything(),
  },
  { requiredKeys: [] },
);
/** Each event's own shape with fuzzed values: these reach the handlers, not just the schemas. */
const shaped: Record<(typeof CLIENT_EVENTS)[number], fc.Arbitrary<unknown>> = {
  'room:join': fc.record({ room: fc.constantFrom('fuzz', 'fuzz-2', 'a.b-c_d') }, { requiredKeys: ['room'] }),
  'room:leave': fc.record({ room: fc.constantFrom('fuzz-2', 'never-joined') }),
  'message:send': fc.record(
    {
      room: fc.constantFrom('fuzz', 'fuzz-2'),
      text: fc.oneof(
        fc.string({ unit: 'binary', minLength: 1, maxLength: 300 }),
        fc.string({ unit: 'grapheme', minLength: 1 }),
      ),
      clientMsgId: fc.stringMatching(/^[A-Za-z0-9_.:-]{1,64}$/),
    },
    { requiredKeys: ['room', 'text'] },
  ),
  'history:get': fc.record(
    {
      room: fc.constant('fuzz'),
      before: fc.integer({ min: 1, max: 1_000_000 }),
      limit: fc.integer({ min: 1, max: 100 }),
    },
    { requiredKeys: ['room'] },
  ),
  'rooms:list': fc.record(
    { cursor: fc.integer({ min: 0, max: 10_000 }), limit: fc.integer({ min: 1, max: 100 }) },
    { requiredKeys: [] },
  ),
  'dm:open': fc.record({ user: fc.string({ unit: 'binary', maxLength: 200 }) }),
  typing: fc.record({ room: fc.constantFrom('fuzz', 'fuzz-2', 'never-joined'), typing: fc.boolean() }),
};
const payloadFor = (event: (typeof CLIENT_EVENTS)[number]) =>
  fc.oneof(shaped[event], shaped[event], nearValid, fc.anything({ maxDepth: 3 }), fc.string());

describe('any payload, to any event', () => {
  it('is answered ok or with a defined error code, never crashes a gateway, and a bystander keeps getting answers', async () => {
    const [a, b] = cluster.gateways;
    const fuzzer = await connectClient(a!.url, { name: 'fuzzer' });
    await fuzzer.ok('room:join', { room: 'fuzz' });
    const bystander = await connectClient(b!.url, { name: 'bystander' });
    await bystander.ok('room:join', { room: 'calm' });
    const codes: Record<string, number> = {};
    let slowest = 0;

    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...CLIENT_EVENTS).chain((event) => fc.tuple(fc.constant(event), payloadFor(event))),
        async ([event, payload]) => {
          const answer = (await emitUnchecked(fuzzer.socket, event, payload)) as {
            ok: boolean;
            error?: { code: string; message: string };
          };
          if (answer.ok) codes.ok = (codes.ok ?? 0) + 1;
          else {
            expect(ERROR_CODES).toContain(answer.error?.code);
            expect(typeof answer.error?.message).toBe('string');
            codes[answer.error!.code] = (codes[answer.error!.code] ?? 0) + 1;
          }
          // Internal errors are bugs: the payload must be refused as invalid or handled.
          expect(answer.error?.code).not.toBe('INTERNAL');
          const started = performance.now();
          await bystander.ok('message:send', { room: 'calm', text: 'still here' });
          slowest = Math.max(slowest, performance.now() - started);
        },
      ),
      { numRuns: 400, seed: Number(process.env.FUZZ_SEED ?? 20261201) },
    );
    console.log(
      `[fuzz] 400 payloads: ${JSON.stringify(codes)}, slowest bystander ack ${slowest.toFixed(1)} ms`,
    );
    expect(slowest).toBeLessThan(1_000);
    expect(fuzzer.socket.connected).toBe(true);
    await expectClusterServes(cluster);
  }, 60_000);
});
