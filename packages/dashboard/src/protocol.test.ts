import { Task, TaskManager } from '@taskbuffer/core';
import type { ConstraintGroupPort, IScheduledRun, IScheduledTaskInfo, SchedulerPort } from '@taskbuffer/core';
import { describe, expect, it } from 'vitest';
import { createSnapshot, toDashboardEvent, toDashboardTask } from './protocol.js';

/** A scheduler that reports fixed schedules; enough for what the snapshot reads. */
function fixedScheduler(nextRun: Date): SchedulerPort {
  const schedules = new Map<string, string>();
  return {
    schedule: (name, expression) => void schedules.set(name, expression),
    unschedule: (name) => schedules.delete(name),
    start: () => undefined,
    stop: () => undefined,
    getScheduledTasks: (): IScheduledTaskInfo[] =>
      [...schedules].map(([name, schedule]) => ({ name, schedule, nextRun, timezone: 'Europe/Berlin' })),
    getNextScheduledRuns: (limit): IScheduledRun[] =>
      [...schedules].slice(0, limit).map(([taskName, schedule]) => ({ taskName, schedule, nextRun })),
    getSchedule: (name) => (schedules.has(name) ? { expression: schedules.get(name)!, nextRun } : undefined),
  };
}

function groupWithSnapshot(name: string): ConstraintGroupPort {
  return {
    name,
    maxConcurrent: 1,
    cooldownMs: 0,
    createConstraintEngine: (host) => ({
      addGroup: () => undefined,
      removeGroup: () => undefined,
      run: (task, input) => host.execute(task, input, () => undefined),
      stop: () => undefined,
    }),
    getSnapshot: () => ({ name, maxConcurrent: 2, cooldownMs: 100, keys: [{ key: 'k', running: 1, queued: 3, cooldownRemainingMs: 0 }] }),
  };
}

describe('createSnapshot', () => {
  it('lists tasks with dates as epoch ms, schedules, next runs, constraint groups and actions', async () => {
    const nextRun = new Date('2030-01-01T00:00:05Z');
    const manager = new TaskManager({ scheduler: fixedScheduler(nextRun) });
    manager.addConstraintGroup(groupWithSnapshot('cap'));
    // A group without getSnapshot is left out, not an error.
    manager.addConstraintGroup({ ...groupWithSnapshot('quiet'), getSnapshot: undefined });
    const task = new Task({ name: 'sync', labels: { tenantId: 'acme' }, taskFunction: () => 'ok' });
    manager.addAndScheduleTask(task, '*/5 * * * * *');
    await manager.triggerTaskByName('sync');

    const snapshot = createSnapshot(manager, { time: 42, nextRunsLimit: 5, actions: { trigger: 'tasks/{name}/trigger' } });
    expect(snapshot.time).toBe(42);
    expect(snapshot.actions).toEqual({ trigger: 'tasks/{name}/trigger' });
    expect(snapshot.tasks).toHaveLength(1);
    const [entry] = snapshot.tasks;
    expect(entry).toMatchObject({ name: 'sync', status: 'completed', runCount: 1, labels: { tenantId: 'acme' } });
    expect(typeof entry!.lastRun).toBe('number');
    expect(entry!.nextRun).toBe(nextRun.getTime());
    expect(entry!.cronSchedule).toBe('*/5 * * * * *');
    expect(snapshot.scheduled).toEqual([
      { name: 'sync', schedule: '*/5 * * * * *', nextRun: nextRun.getTime(), timezone: 'Europe/Berlin' },
    ]);
    expect(snapshot.nextRuns).toEqual([{ taskName: 'sync', schedule: '*/5 * * * * *', nextRun: nextRun.getTime() }]);
    expect(snapshot.constraintGroups.map((group) => group.name)).toEqual(['cap']);
    // What travels must survive JSON unchanged.
    expect(JSON.parse(JSON.stringify(snapshot))).toEqual(snapshot);
  });

  it('works for a manager without scheduler or groups', () => {
    const manager = new TaskManager();
    manager.addTask(new Task({ name: 'a', taskFunction: () => 1 }));
    const snapshot = createSnapshot(manager);
    expect(snapshot.scheduled).toEqual([]);
    expect(snapshot.nextRuns).toEqual([]);
    expect(snapshot.constraintGroups).toEqual([]);
    expect(snapshot.tasks.map((task) => task.name)).toEqual(['a']);
    expect(snapshot.tasks[0]).not.toHaveProperty('lastRun');
  });
});

describe('toDashboardTask', () => {
  it('turns dates into epoch ms and leaves the rest as it is', () => {
    const lastRun = new Date(1000);
    const task = toDashboardTask({
      name: 'x',
      status: 'idle',
      steps: [],
      currentProgress: 0,
      runCount: 0,
      labels: {},
      errorCount: 0,
      lastRun,
    });
    expect(task).toEqual({ name: 'x', status: 'idle', steps: [], currentProgress: 0, runCount: 0, labels: {}, errorCount: 0, lastRun: 1000 });
  });
});

describe('toDashboardEvent', () => {
  it('keeps the event fields and drops the metadata snapshot', () => {
    const metadata = toDashboardTask({ name: 'x', status: 'failed', steps: [], currentProgress: 0, runCount: 1, labels: {}, errorCount: 1 });
    const event = toDashboardEvent({
      type: 'queued',
      task: { ...metadata, lastRun: undefined, nextRun: undefined },
      timestamp: 7,
      constraintGroup: 'per-domain',
      constraintKey: 'a.com',
    });
    expect(event).toEqual({ type: 'queued', taskName: 'x', timestamp: 7, constraintGroup: 'per-domain', constraintKey: 'a.com' });
  });
});
