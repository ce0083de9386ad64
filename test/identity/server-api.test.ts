import { readFile } from 'node:fs/promises';
import type { ChatMessage } from '@chorus/protocol';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { connectClient } from '../support/clients';
import { startCluster } from '../support/cluster';
import { useCluster } from '../support/hooks';
import { eventually, sleep } from '../support/wait';

const API_KEY = 'test-api-key-0123456789';
const cluster = useCluster({ gateways: 3, apiKey: API_KEY });

async function api(gateway: number, method: string, path: string, body?: unknown, key = API_KEY) {
  const response = await fetch(`${cluster.gateways[gateway]!.url}/api${path}`, {
    method,
    headers: {
      ...(key ? { Authorization: `Bearer ${key}` } : {}),
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: await response.json() };
}

describe('the server API', () => {
  it('posts into a room whose members on every gateway receive it once, in sequence with their own', async () => {
    const members = await Promise.all(
      cluster.gateways.map((g, i) => connectClient(g.url, { name: `member${i}` })),
    );
    for (const member of members) await member.ok('room:join', { room: 'news' });
    await members[0]!.ok('message:send', { room: 'news', text: 'from a person' });

    const posted = await api(1, 'POST', '/rooms/news/messages', {
      text: 'from the backend',
      user: { id: 'bot-7', name: 'Deploy bot' },
      clientMsgId: 'deploy-42',
    });
    expect(posted).toEqual({
      status: 201,
      body: {
        message: expect.objectContaining({
          room: 'news',
          seq: 2,
          text: 'from the backend',
          user: { id: 'bot-7', name: 'Deploy bot' },
          clientMsgId: 'deploy-42',
        }),
      },
    });
    // The same clientMsgId again, on another gateway: the same message, not a second one.
    const retried = await api(2, 'POST', '/rooms/news/messages', {
      text: 'from the backend',
      user: { id: 'bot-7', name: 'Deploy bot' },
      clientMsgId: 'deploy-42',
    });
    expect(retried).toEqual({ status: 200, body: { message: posted.body.message } });
    const system = await api(0, 'POST', '/rooms/news/messages', { text: 'maintenance at noon' });
    expect(system.body.message.user).toEqual({ id: 'system', name: 'system' });

    await eventually(() => {
      for (const member of members) expect(member.inRoom('news')).toHaveLength(3);
    });
    await sleep(300);
    for (const member of members) {
      expect(member.inRoom('news').map((m: ChatMessage) => [m.seq, m.text])).toEqual([
        [1, 'from a person'],
        [2, 'from the backend'],
        [3, 'maintenance at noon'],
      ]);
    }

    const history = await api(2, 'GET', '/rooms/news/history?limit=2');
    expect(history.status).toBe(200);
    expect(history.body.messages.map((m: ChatMessage) => m.seq)).toEqual([2, 3]);
    const older = await api(2, 'GET', '/rooms/news/history?before=2');
    expect(older.body.messages.map((m: ChatMessage) => m.text)).toEqual(['from a person']);
    const listed = await api(0, 'GET', '/rooms/news/members');
    expect(listed.status).toBe(200);
    expect(listed.body.memberCount).toBe(3);
    expect(listed.body.members.map((u: { name: string }) => u.name).sort()).toEqual([
      'member0',
      'member1',
      'member2',
    ]);
  });

  it('refuses a missing or wrong key (401) and bad input (400) with the protocol error codes', async () => {
    const answers = [
      await api(0, 'POST', '/rooms/news/messages', { text: 'x' }, ''),
      await api(0, 'POST', '/rooms/news/messages', { text: 'x' }, 'wrong-key-wrong-key'),
      await api(0, 'POST', '/rooms/bad%20room/messages', { text: 'x' }),
      await api(0, 'POST', '/rooms/news/messages', { text: '' }),
      await api(0, 'POST', '/rooms/news/messages', { text: 'x', user: { id: 'u', name: 'n', admin: true } }),
      await api(0, 'POST', '/rooms/news/messages', '{"text": '),
      await api(0, 'GET', '/rooms/news/history?limit=1000'),
      await api(0, 'GET', '/rooms/news/nothing-here'),
    ];
    expect(answers.map((a) => [a.status, a.body.error?.code])).toEqual([
      [401, 'UNAUTHORIZED'],
      [401, 'UNAUTHORIZED'],
      [400, 'INVALID_PAYLOAD'],
      [400, 'INVALID_PAYLOAD'],
      [400, 'INVALID_PAYLOAD'],
      [400, 'INVALID_PAYLOAD'],
      [400, 'INVALID_PAYLOAD'],
      [404, 'INVALID_PAYLOAD'],
    ]);
    expect((await api(0, 'GET', '/rooms/news/history')).body.messages).toEqual([]);
  });

  it('is what docs/openapi.yaml describes: its routes, and the fields it promises in a message', async () => {
    const spec = parse(await readFile(new URL('../../docs/openapi.yaml', import.meta.url), 'utf8'));
    const routes = Object.entries(spec.paths as Record<string, object>).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(routes.sort()).toEqual([
      'GET /rooms/{room}/history',
      'GET /rooms/{room}/members',
      'POST /rooms/{room}/messages',
    ]);
    const posted = await api(0, 'POST', '/rooms/spec/messages', {
      text: 'per the spec',
      clientMsgId: 'spec-1',
    });
    const required: string[] = spec.components.schemas.Message.required;
    expect(Object.keys(posted.body.message)).toEqual(expect.arrayContaining(required));
    expect(
      Object.keys(posted.body.message).every((key) => key in spec.components.schemas.Message.properties),
    ).toBe(true);
    const history = await api(0, 'GET', '/rooms/spec/history');
    expect(Object.keys(history.body).sort()).toEqual(
      [
        ...spec.paths['/rooms/{room}/history'].get.responses['200'].content['application/json'].schema
          .required,
      ].sort(),
    );
  });

  it('does not exist without API_KEY', async () => {
    const embedded = await startCluster({ gateways: 1 });
    const response = await fetch(`${embedded.gateways[0]!.url}/api/rooms/news/history`, {
      headers: { Authorization: `Bearer ${API_KEY}` },
    });
    expect(response.status).toBe(404);
    await embedded.close();
  });
});
