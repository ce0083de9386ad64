import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { connectClient, type TestClient, waitForMessages } from './clients';
import type { TestCluster } from './cluster';

/** What these helpers read of a cluster: a `TestCluster`, or the `useCluster` handle. */
type Gateways = Pick<TestCluster, 'gateways'>;

/** An attacker and the people it could harm: a neighbour on its gateway and a remote member on another. */
export interface Lobby {
  attacker: TestClient;
  neighbour: TestClient;
  remote: TestClient;
}

/** Connects the attacker and the neighbour to gateway 1 and the remote member to gateway 2; all join `lobby`. */
export async function lobbyOfThree(
  cluster: Gateways,
  attackerTransport: 'websocket' | 'polling' = 'websocket',
): Promise<Lobby> {
  const [a, b] = cluster.gateways;
  const attacker = await connectClient(a!.url, { name: 'mallory', transports: [attackerTransport] });
  const neighbour = await connectClient(a!.url, { name: 'alice' });
  const remote = await connectClient(b!.url, { name: 'bob' });
  for (const client of [attacker, neighbour, remote]) await client.ok('room:join', { room: 'lobby' });
  return { attacker, neighbour, remote };
}

/**
 * Asserts nothing reached the cluster's state: `lobby` is the only room and has `members.length` members, and
 * a marker `sender` posts there gets seq 1 (nothing was appended before it) and is all each member received.
 */
export async function expectLobbyUntouched(members: TestClient[], sender: TestClient): Promise<void> {
  expect((await sender.ok('rooms:list', {})).rooms).toEqual([{ room: 'lobby', members: members.length }]);
  const { message } = await sender.ok('message:send', { room: 'lobby', text: 'marker' });
  expect(message.seq).toBe(1);
  for (const member of members) expect(await waitForMessages(member, 'lobby', 1)).toEqual([message]);
}

/**
 * Asserts that a cluster came through unharmed: every gateway answers `/healthz`, and fresh clients, one per
 * gateway, join a new room and each receive a message sent through another gateway.
 */
export async function expectClusterServes(cluster: Gateways): Promise<void> {
  for (const gateway of cluster.gateways) {
    const health = await fetch(`${gateway.url}/healthz`);
    expect(health.status, `${gateway.nodeId} /healthz`).toBe(200);
  }
  const room = `still-serving-${randomBytes(3).toString('hex')}`;
  const fresh = await Promise.all(
    cluster.gateways.map((g, i) => connectClient(g.url, { name: `fresh-${i + 1}` })),
  );
  for (const client of fresh) await client.ok('room:join', { room });
  const { message } = await fresh.at(-1)!.ok('message:send', { room, text: 'still serving' });
  for (const client of fresh) expect(await waitForMessages(client, room, 1)).toEqual([message]);
}
