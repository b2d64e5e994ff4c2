import { describe, expect, it } from 'vitest';
import { readSnapshot, readUpdate } from './wire.js';

const task = { name: 'a', status: 'idle', steps: [], currentProgress: 0, runCount: 0, labels: {}, errorCount: 0 };

describe('readSnapshot', () => {
  it('reads a snapshot of this protocol version', () => {
    const text = JSON.stringify({ protocol: 1, time: 5, tasks: [task], scheduled: [], nextRuns: [], constraintGroups: [], actions: {} });
    expect(readSnapshot(text)).toEqual({ ok: true, dropped: 0, value: expect.objectContaining({ time: 5, tasks: [task] }) });
  });

  it('refuses text that is not JSON, JSON that is not a snapshot, and other protocol versions, saying why', () => {
    expect(readSnapshot('<html>502 Bad Gateway')).toEqual({
      ok: false,
      problem: 'The server sent a snapshot that is not JSON: "<html>502 Bad Gateway"',
    });
    expect(readSnapshot('[1,2]')).toEqual({ ok: false, problem: 'The server sent a snapshot that is not an object' });
    expect(readSnapshot('{"time":1,"tasks":[]}')).toEqual({
      ok: false,
      problem: 'The server sent a snapshot without a protocol version',
    });
    expect(readSnapshot('{"protocol":2,"time":1,"tasks":[]}')).toEqual({
      ok: false,
      problem: 'The server speaks protocol version 2; this page understands version 1',
    });
    expect(readSnapshot('{"protocol":1,"tasks":"x"}')).toEqual({ ok: false, problem: 'The server sent a snapshot without tasks' });
  });

  it("reads a cluster's instances and drops malformed ones, and a task's instances only when they are names", () => {
    const live = { id: 'web-1', status: 'live', lastSeen: 1, triggers: true };
    const text = JSON.stringify({
      protocol: 1,
      time: 5,
      tasks: [{ ...task, instances: ['web-1'] }, { ...task, name: 'b', instances: [1] }],
      instances: [live, { id: 'web-2', status: 'asleep', lastSeen: 1, triggers: true }],
    });
    const result = readSnapshot(text);
    expect(result).toMatchObject({ ok: true, dropped: 1 });
    const value = result.ok ? result.value : undefined;
    expect(value?.instances).toEqual([live]);
    expect(value?.tasks).toEqual([{ ...task, instances: ['web-1'] }, { ...task, name: 'b' }]);
    const update = readUpdate(JSON.stringify({ protocol: 1, time: 6, tasks: [], events: [], instances: [live] }));
    expect(update.ok && update.value.instances).toEqual([live]);
  });

  it('leaves out malformed tasks and runs and counts them', () => {
    const text = JSON.stringify({
      protocol: 1,
      time: 1,
      tasks: [task, { name: 3 }, null],
      runs: [{ id: '1', taskName: 'a', status: 'completed', startedAt: 1, endedAt: 2 }, { id: '2', status: 'exploded' }],
    });
    const result = readSnapshot(text);
    expect(result.ok && result.value.tasks).toEqual([task]);
    expect(result.ok && result.value.runs).toHaveLength(1);
    expect(result.ok && result.dropped).toBe(3);
  });
});

describe('readUpdate', () => {
  it('leaves out events of unknown types and keeps the rest', () => {
    const text = JSON.stringify({
      protocol: 1,
      time: 1,
      tasks: [],
      events: [
        { type: 'completed', taskName: 'a', timestamp: 1 },
        { type: 'teleported', taskName: 'a', timestamp: 2 },
      ],
      droppedEvents: 0,
    });
    const result = readUpdate(text);
    expect(result.ok && result.value.events.map((event) => event.type)).toEqual(['completed']);
    expect(result.ok && result.dropped).toBe(1);
  });
});
