import { TaskConstraintGroup } from '@taskbuffer/constraints';
import { type ITaskEvent, Task, TaskManager, TaskNotFoundError } from '@taskbuffer/core';
import { CronScheduler } from '@taskbuffer/scheduler';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// README § How It Works and § API Reference: the behaviour the tables and lists
// promise beyond the code examples.

describe('README: How It Works', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-01-01T10:00:00Z'));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('triggerTask, triggerTaskByName, addExecuteRemoveTask and cron all go through the constraint groups', async () => {
    const manager = new TaskManager({ scheduler: new CronScheduler({ timezone: 'UTC' }) });
    manager.addConstraintGroup(
      new TaskConstraintGroup({ name: 'one-at-a-time', maxConcurrent: 1, constraintKeyForExecution: () => 'all' }),
    );
    const starts: Array<[string, number]> = [];
    const make = (name: string) =>
      new Task({
        name,
        taskFunction: async () => {
          starts.push([name, Date.now() - Date.parse('2026-01-01T10:00:00Z')]);
          await new Promise((resolve) => setTimeout(resolve, 1000));
          return name;
        },
      });
    const blocker = make('blocker');
    manager.addTask(blocker);
    manager.addTask(make('byName'));
    manager.addAndScheduleTask(make('cron'), '* * * * * *'); // every second
    const queued: string[] = [];
    manager.taskSubject.subscribe((event: ITaskEvent) => {
      if (event.type === 'queued') queued.push(`${event.task.name} on ${event.constraintGroup}/${event.constraintKey}`);
    });

    const runs = [
      manager.triggerTask(blocker),
      manager.triggerTaskByName('byName'),
      manager.addExecuteRemoveTask(make('oneShot')).then((report) => report.result),
    ];
    await manager.start();
    await vi.advanceTimersByTimeAsync(1000); // the first cron tick comes while `blocker` runs
    manager.descheduleTaskByName('cron');
    await vi.advanceTimersByTimeAsync(5000);
    await expect(Promise.all(runs)).resolves.toEqual(['blocker', 'byName', 'oneShot']);
    expect(starts).toEqual([
      ['blocker', 0],
      ['byName', 1000],
      ['oneShot', 2000],
      ['cron', 3000],
    ]);
    expect(queued).toEqual(['byName on one-at-a-time/all', 'oneShot on one-at-a-time/all', 'cron on one-at-a-time/all']);
    await manager.stop();
  });
});

describe('README: API Reference', () => {
  it('Task properties: running, idle, runCount, lastRun', async () => {
    let release!: () => void;
    const task = new Task({ name: 'prop', taskFunction: () => new Promise<void>((resolve) => (release = resolve)) });
    expect([task.running, task.idle, task.runCount, task.lastRun]).toEqual([false, true, 0, undefined]);
    const run = task.trigger();
    expect([task.running, task.idle]).toEqual([true, false]);
    release();
    await run;
    expect([task.running, task.idle, task.runCount]).toEqual([false, true, 1]);
    expect(task.lastRun).toBeInstanceOf(Date);
  });

  it('TaskConstraintGroup methods: canRun, acquireSlot, releaseSlot, getCooldownRemaining, getRunningCount, reset', () => {
    vi.useFakeTimers();
    try {
      const group = new TaskConstraintGroup({
        name: 'pair',
        maxConcurrent: 2,
        cooldownMs: 500,
        constraintKeyForExecution: (_task, input?: string) => input ?? null,
      });
      // Defaults from the options table.
      const loose = new TaskConstraintGroup({ name: 'loose', constraintKeyForExecution: () => 'k' });
      expect([loose.maxConcurrent, loose.cooldownMs]).toEqual([Infinity, 0]);
      expect(group.getConstraintKey(new Task({ taskFunction: async () => {} }), 'x')).toBe('x');

      expect(group.canRun('x')).toBe(true);
      group.acquireSlot('x');
      group.acquireSlot('x');
      expect(group.getRunningCount('x')).toBe(2);
      expect(group.canRun('x')).toBe(false);
      group.releaseSlot('x');
      expect(group.getRunningCount('x')).toBe(1);
      expect(group.getCooldownRemaining('x')).toBe(500); // "Minimum ms between completions per key"
      expect(group.canRun('x')).toBe(false);
      vi.advanceTimersByTime(500);
      expect(group.getCooldownRemaining('x')).toBe(0);
      expect(group.canRun('x')).toBe(true);
      group.reset();
      expect(group.getRunningCount('x')).toBe(0);
      expect(group.canRun('y')).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it('TaskManager lookups and properties: getTaskByName, taskMap, constraintGroups, scheduleTaskByName', async () => {
    const manager = new TaskManager({ scheduler: new CronScheduler({ timezone: 'UTC' }) });
    const task = new Task({ name: 'Deploy', taskFunction: async () => 'ok' });
    manager.addTask(task);
    expect(manager.getTaskByName('Deploy')).toBe(task);
    expect(manager.getTaskByName('nope')).toBeUndefined();
    expect(manager.taskMap.getArray()).toEqual([task]);
    const group = new TaskConstraintGroup({ name: 'g', constraintKeyForExecution: () => null });
    manager.addConstraintGroup(group);
    expect(manager.constraintGroups).toEqual([group]);
    manager.scheduleTaskByName('Deploy', '0 2 * * *');
    expect(manager.getScheduledTasks().map((info) => info.name)).toEqual(['Deploy']);
    await expect(manager.triggerTaskByName('nope')).rejects.toBeInstanceOf(TaskNotFoundError);
    await manager.stop();
  });
});
