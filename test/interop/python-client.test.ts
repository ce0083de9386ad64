import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { connectClient } from '../support/clients';
import { useCluster } from '../support/hooks';
import { eventually, sleep } from '../support/wait';

const PYTHON = process.env.CHORUS_PYTHON ?? '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./dumb_client.py', import.meta.url));

const cluster = useCluster({ gateways: 2 });

interface PyEvent {
  event: string;
  seq?: number;
  epoch?: string;
  text?: string;
  recovered?: boolean;
}

/** Runs the Python client for `seconds`, collecting its JSON lines. */
function runPython(url: string, room: string, seconds: number) {
  if (!existsSync(PYTHON))
    throw new Error(
      `${PYTHON} not found: install python3-socketio (apt-get install python3-socketio python3-websocket)`,
    );
  const child = spawn(PYTHON, [SCRIPT, url, room, 'py', String(seconds)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: PyEvent[] = [];
  let stderr = '';
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) events.push(JSON.parse(line) as PyEvent);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { events, exited, stderr: () => stderr, kill: () => child.kill('SIGKILL') };
}

describe('a python-socketio client that only dedupes and rejoins with since', () => {
  it('receives every acknowledged message exactly once although its connection keeps dropping', async () => {
    const [a, b] = cluster.gateways;
    const sender = await connectClient(a!.url, { name: 'sender' });
    await sender.ok('room:join', { room: 'py' });
    const py = runPython(b!.url, 'py', 5);
    try {
      await eventually(() => expect(py.events.some((e) => e.event === 'joined')).toBe(true), {
        timeoutMs: 10_000,
      });
      const acked: number[] = [];
      for (let i = 1; i <= 60; i++) {
        const { message } = await sender.ok('message:send', { room: 'py', text: `m${i}` });
        acked.push(message.seq);
        // Drop the Python client's transport from the server side, twice, mid-stream.
        if (i === 20 || i === 40) {
          // The second drop waits for the first reconnect, so each one really cuts a live connection.
          const joins = i === 20 ? 1 : 2;
          await eventually(() => expect(py.events.filter((e) => e.event === 'joined').length).toBe(joins), {
            timeoutMs: 10_000,
          });
          for (const s of b!.gateway.io.of('/').sockets.values()) s.conn.close();
        }
        await sleep(20);
      }
      // python-engineio runs each incoming packet's handler in its own thread, so the script may print in any
      // order; what it must show is every acked seq exactly once (it prints only after its own dedupe).
      await eventually(
        () =>
          expect(
            py.events
              .filter((e) => e.event === 'message')
              .map((e) => e.seq!)
              .sort((x, y) => x - y),
          ).toEqual(acked),
        { timeoutMs: 10_000 },
      );
      expect(py.events.filter((e) => e.event === 'joined').length).toBeGreaterThanOrEqual(3);
      expect(py.events.filter((e) => e.event === 'reset')).toEqual([]);
      expect(await py.exited, py.stderr()).toBe(0);
    } finally {
      py.kill();
    }
  }, 30_000);
});
