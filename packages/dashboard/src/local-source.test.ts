import { Task, TaskManager } from '@taskbuffer/core';
import { describe, expect, it } from 'vitest';
import { createLocalDashboardSource } from './local-source.js';
import type { DashboardUpdate } from './protocol.js';
import { describeDashboardSourceConformance } from './testing/index.js';

describeDashboardSourceConformance('createLocalDashboardSource', {
  create: (manager) => createLocalDashboardSource(manager, { coalesceMs: 10 }),
  destroy: (source) => (source as ReturnType<typeof createLocalDashboardSource>).close(),
});

describe('createLocalDashboardSource', () => {
  it('records runs while nobody watches by default, so a later snapshot has them', async () => {
    const manager = new TaskManager({ instanceId: 'node-a' });
    manager.addTask(new Task({ name: 'nightly', taskFunction: () => 1 }));
    const source = createLocalDashboardSource(manager);
    await manager.triggerTaskByName('nightly');
    const runs = source.getSnapshot().runs!;
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ taskName: 'nightly', status: 'completed', instanceId: 'node-a' });
    source.close();
    expect(manager.taskSubject.observed).toBe(false);
  });

  it('with keepHistory false, watches the manager only while subscribed', async () => {
    const manager = new TaskManager();
    manager.addTask(new Task({ name: 'job', taskFunction: () => 1 }));
    const source = createLocalDashboardSource(manager, { keepHistory: false, coalesceMs: 0 });
    expect(manager.taskSubject.observed).toBe(false);
    await manager.triggerTaskByName('job');
    const updates: DashboardUpdate[] = [];
    const subscription = source.subscribe({ update: (update) => updates.push(update) });
    expect(manager.taskSubject.observed).toBe(true);
    subscription.unsubscribe();
    expect(manager.taskSubject.observed).toBe(false);
    expect(source.getSnapshot().runs).toEqual([]);
  });

  it('tags events with the instance id', async () => {
    const manager = new TaskManager({ instanceId: 'node-b' });
    manager.addTask(new Task({ name: 'job', taskFunction: () => 1 }));
    const source = createLocalDashboardSource(manager, { schedule: () => () => undefined });
    const updates: DashboardUpdate[] = [];
    source.subscribe({ update: (update) => updates.push(update) });
    await manager.triggerTaskByName('job');
    source.getSnapshot();
    expect(updates[0]!.events.map((event) => event.instanceId)).toEqual(['node-b', 'node-b']);
    source.close();
  });

  it('rejects bad options with a TypeError naming them', () => {
    const manager = new TaskManager();
    expect(() => createLocalDashboardSource({} as never)).toThrow(
      new TypeError('Expected `manager` to be a TaskManager, got `{}` (object)'),
    );
    expect(() => createLocalDashboardSource(manager, { runsPerTask: -1 })).toThrow(
      new TypeError('Expected `runsPerTask` to be a non-negative integer, got `-1` (number)'),
    );
    expect(() => createLocalDashboardSource(manager, { coalesceMs: Number.NaN })).toThrow(/`coalesceMs`/);
    expect(() => createLocalDashboardSource(manager, { keepHistory: 'yes' as never })).toThrow(/`keepHistory`/);
  });
});
