import { describe, expect, it } from 'vitest';
import { ConcurrencyGate } from './concurrency-gate';

/** A task that runs until `finish` is called. */
function controlled() {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { task: () => done, finish };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('ConcurrencyGate', () => {
  it('runs at most max tasks at once, and the waiting ones in the order they came', async () => {
    const gate = new ConcurrencyGate(2);
    const tasks = Array.from({ length: 5 }, () => controlled());
    const started: number[] = [];
    const runs = tasks.map((t, i) =>
      gate.run(async () => {
        started.push(i);
        await t.task();
        return i;
      }),
    );
    await tick();
    expect(started).toEqual([0, 1]);
    expect([gate.running, gate.waiting]).toEqual([2, 3]);
    tasks[1]!.finish();
    await tick();
    expect(started).toEqual([0, 1, 2]);
    for (const t of tasks) t.finish();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3, 4]);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect([gate.running, gate.waiting]).toEqual([0, 0]);
  });

  it('frees the place of a task that fails', async () => {
    const gate = new ConcurrencyGate(1);
    await expect(gate.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(gate.run(async () => 'next')).resolves.toBe('next');
    expect(gate.running).toBe(0);
  });

  it('refuses RATE_LIMITED past the waiting cap, and takes tasks again once there is room', async () => {
    const gate = new ConcurrencyGate(1, 1);
    const first = controlled();
    const running = gate.run(first.task);
    const queued = gate.run(async () => 'queued');
    await expect(gate.run(async () => 'refused')).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    first.finish();
    await running;
    await expect(queued).resolves.toBe('queued');
    await expect(gate.run(async () => 'later')).resolves.toBe('later');
  });
});
