import { TaskConstraintGroup } from '@taskbuffer/constraints';
import { type ITaskEvent, MissingPortError, Task, TaskManager } from '@taskbuffer/core';
import { CronScheduler } from '@taskbuffer/scheduler';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OverlapCounter, captureConsole } from './support/console.js';

// README § TaskManager. The example is verbatim but for the import lines and one
// more change: cron needs a scheduler, so `new TaskManager()` becomes
// `new TaskManager({ scheduler: new CronScheduler() })`. Stand-ins come first,
// assertions after.

function standIns() {
  const dataProcessor = new Task({ name: 'DataProcessor', taskFunction: async (rows: number[] = []) => rows.length });
  const deployTask = new Task<undefined, readonly [{ name: 'build'; description: 'Build'; percentage: 50 }, { name: 'ship'; description: 'Ship'; percentage: 50 }], { domain: string }>({
    name: 'Deploy',
    data: { domain: 'example.com' },
    labels: { env: 'production' },
    steps: [
      { name: 'build', description: 'Build', percentage: 50 },
      { name: 'ship', description: 'Ship', percentage: 50 },
    ] as const,
    taskFunction: async () => {
      deployTask.notifyStep('build');
      deployTask.notifyStep('ship');
      return 'deployed';
    },
  });
  const backupRuns: number[] = [];
  const backupTask = new Task({ name: 'Backup', taskFunction: async () => void backupRuns.push(Date.now()) });
  const healthRuns: number[] = [];
  const healthCheck = new Task({ name: 'HealthCheck', taskFunction: async () => void healthRuns.push(Date.now()) });
  const globalCap = new TaskConstraintGroup({
    name: 'global-cap',
    maxConcurrent: 10,
    constraintKeyForExecution: () => 'all',
  });
  const perDomainMutex = new TaskConstraintGroup<{ domain: string }>({
    name: 'domain-mutex',
    maxConcurrent: 1,
    constraintKeyForExecution: (task) => task.data.domain ?? null,
  });
  // "TempTask" takes 1523 ms of (fake) time over two steps.
  const temporaryTask = new Task({
    name: 'TempTask',
    steps: [
      { name: 'step1', description: 'First', percentage: 50 },
      { name: 'step2', description: 'Second', percentage: 50 },
    ] as const,
    taskFunction: async () => {
      temporaryTask.notifyStep('step1');
      vi.advanceTimersByTime(1000);
      temporaryTask.notifyStep('step2');
      vi.advanceTimersByTime(523);
      return { rows: 42 };
    },
  });
  return { dataProcessor, deployTask, backupTask, backupRuns, healthCheck, healthRuns, globalCap, perDomainMutex, temporaryTask };
}

describe('README: TaskManager — Centralized Orchestration', () => {
  let output: ReturnType<typeof captureConsole>;
  beforeEach(() => {
    output = captureConsole();
    vi.useFakeTimers();
    // Local time: cron reads expressions in the process's time zone, as classic cron.
    vi.setSystemTime(new Date(2026, 0, 1, 10, 0, 0));
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('a bare `new TaskManager()` cannot schedule: the error says to install @taskbuffer/scheduler', () => {
    const { backupTask } = standIns();
    const manager = new TaskManager();
    let caught: unknown;
    try {
      manager.addAndScheduleTask(backupTask, '0 2 * * *'); // Daily at 2 AM
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(MissingPortError);
    expect(caught).toBeInstanceOf(Error);
    expect((caught as Error).message).toContain('install @taskbuffer/scheduler');
    expect((caught as Error).message).toContain('new CronScheduler()');
    expect(() => manager.scheduleTaskByName('Backup', '* * * * *')).toThrow(/@taskbuffer\/scheduler/);
    // Nothing half-done: the task was not registered either.
    expect(manager.getTaskByName('Backup')).toBeUndefined();
    expect(manager.getScheduledTasks()).toEqual([]);
  });

  it('runs the whole example with a CronScheduler', async () => {
    const { dataProcessor, deployTask, backupTask, backupRuns, healthCheck, healthRuns, globalCap, perDomainMutex, temporaryTask } =
      standIns();
    for (let i = 0; i < 3; i++) await deployTask.trigger(); // the spec shows Deploy after 3 runs

    const manager = new TaskManager({ scheduler: new CronScheduler() }); // spec: new TaskManager()

    // Add tasks
    manager.addTask(dataProcessor);
    manager.addTask(deployTask);

    // Schedule with cron expressions
    manager.addAndScheduleTask(backupTask, '0 2 * * *'); // Daily at 2 AM
    manager.addAndScheduleTask(healthCheck, '*/5 * * * *'); // Every 5 minutes

    // Register constraint groups
    manager.addConstraintGroup(globalCap);
    manager.addConstraintGroup(perDomainMutex);

    // Query metadata
    const meta = manager.getTaskMetadata('Deploy');
    console.log(meta);
    // {
    // name: 'Deploy',
    // status: 'completed',
    // steps: [...],
    // currentProgress: 100,
    // runCount: 3,
    // labels: { env: 'production' },
    // lastError: undefined,
    // errorCount: 0,
    // ...
    // }

    // All tasks at once
    const allMeta = manager.getAllTasksMetadata();

    // Scheduled task info
    const scheduled = manager.getScheduledTasks();
    const nextRuns = manager.getNextScheduledRuns(5);

    // Trigger by name (routes through constraints)
    await manager.triggerTaskByName('Deploy');

    // One-shot: add, execute, collect report, remove
    const report = await manager.addExecuteRemoveTask(temporaryTask);
    console.log(report);
    // {
    // taskName: 'TempTask',
    // startTime: 1706284800000,
    // endTime: 1706284801523,
    // duration: 1523,
    // steps: [...],
    // stepsCompleted: ['step1', 'step2'],
    // progress: 100,
    // result: any
    // }

    // Lifecycle
    await manager.start(); // Starts cron scheduling + distributed coordinator
    await manager.stop(); // Stops scheduling, cleans up event subscriptions

    expect(meta).toMatchObject({
      name: 'Deploy',
      status: 'completed',
      currentProgress: 100,
      runCount: 3,
      labels: { env: 'production' },
      errorCount: 0,
    });
    expect(meta!.lastError).toBeUndefined();
    expect(meta!.steps.map((step) => [step.name, step.status])).toEqual([
      ['build', 'completed'],
      ['ship', 'completed'],
    ]);
    expect(output.log).toHaveLength(2);

    expect(allMeta.map((entry) => entry.name)).toEqual(['DataProcessor', 'Deploy', 'Backup', 'HealthCheck']);
    expect(allMeta.find((entry) => entry.name === 'HealthCheck')).toMatchObject({
      cronSchedule: '*/5 * * * *',
      nextRun: new Date(2026, 0, 1, 10, 5),
    });

    expect(scheduled.map(({ name, schedule, nextRun }) => ({ name, schedule, nextRun }))).toEqual([
      { name: 'Backup', schedule: '0 2 * * *', nextRun: new Date(2026, 0, 2, 2, 0) },
      { name: 'HealthCheck', schedule: '*/5 * * * *', nextRun: new Date(2026, 0, 1, 10, 5) },
    ]);
    expect(scheduled[0]!.metadata?.name).toBe('Backup');
    expect(nextRuns).toEqual([
      { taskName: 'HealthCheck', nextRun: new Date(2026, 0, 1, 10, 5), schedule: '*/5 * * * *' },
      { taskName: 'Backup', nextRun: new Date(2026, 0, 2, 2, 0), schedule: '0 2 * * *' },
    ]);

    expect(deployTask.runCount).toBe(4);
    const start = new Date(2026, 0, 1, 10, 0, 0).getTime();
    expect(report).toMatchObject({
      taskName: 'TempTask',
      startTime: start,
      endTime: start + 1523,
      duration: 1523,
      stepsCompleted: ['step1', 'step2'],
      progress: 100,
      result: { rows: 42 },
    });
    expect(report.steps.map((step) => step.status)).toEqual(['completed', 'completed']);
    expect(manager.getTaskByName('TempTask')).toBeUndefined(); // removed again

    // Started and stopped at once: nothing ran. Once stopped, no tick runs.
    await vi.advanceTimersByTimeAsync(30 * 60_000);
    expect(healthRuns).toEqual([]);
    expect(backupRuns).toEqual([]);
  });

  it('Lifecycle: a started manager runs cron ticks; stop() ends them', async () => {
    const { healthCheck, healthRuns, backupTask, backupRuns } = standIns();
    const manager = new TaskManager({ scheduler: new CronScheduler() });
    manager.addAndScheduleTask(backupTask, '0 2 * * *'); // Daily at 2 AM
    manager.addAndScheduleTask(healthCheck, '*/5 * * * *'); // Every 5 minutes
    const events: string[] = [];
    manager.taskSubject.subscribe((event: ITaskEvent) => events.push(`${event.type} ${event.task.name}`));

    await manager.start();
    await vi.advanceTimersByTimeAsync(12 * 60_000);
    expect(healthRuns).toEqual([new Date(2026, 0, 1, 10, 5).getTime(), new Date(2026, 0, 1, 10, 10).getTime()]);
    expect(events).toEqual(['started HealthCheck', 'completed HealthCheck', 'started HealthCheck', 'completed HealthCheck']);
    expect(manager.getTaskMetadata('HealthCheck')!.nextRun).toEqual(new Date(2026, 0, 1, 10, 15));

    await vi.advanceTimersByTimeAsync(16 * 60 * 60_000); // past 2 AM
    expect(backupRuns).toEqual([new Date(2026, 0, 2, 2, 0).getTime()]);

    await manager.stop();
    const runs = healthRuns.length;
    await vi.advanceTimersByTimeAsync(60 * 60_000);
    expect(healthRuns).toHaveLength(runs);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('Remove Tasks', async () => {
    const { deployTask, healthCheck } = standIns();
    const manager = new TaskManager({ scheduler: new CronScheduler() });
    const task = healthCheck;
    manager.addAndScheduleTask(task, '*/5 * * * *');
    manager.addAndScheduleTask(deployTask, '0 * * * *');
    const events: string[] = [];
    manager.taskSubject.subscribe((event) => events.push(`${event.type} ${event.task.name}`));

    manager.removeTask(task); // Removes from map and unsubscribes event forwarding
    manager.descheduleTaskByName('Deploy'); // Remove cron schedule only

    expect(manager.getTaskByName('HealthCheck')).toBeUndefined();
    expect(manager.getTaskByName('Deploy')).toBe(deployTask);
    expect(manager.getScheduledTasks()).toEqual([]);
    await task.trigger();
    expect(events).toEqual([]);
    await manager.triggerTaskByName('Deploy');
    expect(events).toEqual(['started Deploy', 'step Deploy', 'step Deploy', 'completed Deploy']);
    await manager.start();
    await vi.advanceTimersByTimeAsync(2 * 60 * 60_000);
    expect(deployTask.runCount).toBe(1);
    expect(task.runCount).toBe(1);
    await manager.stop();
  });

  it('Remove Constraint Groups', async () => {
    const manager = new TaskManager();
    const domainMutex = new TaskConstraintGroup<{ domain: string }>({
      name: 'domain-mutex',
      maxConcurrent: 1,
      constraintKeyForExecution: (task) => task.data.domain,
    });
    manager.addConstraintGroup(domainMutex);
    const counter = new OverlapCounter();
    const update = new Task<undefined, [], { domain: string }>({
      name: 'update',
      data: { domain: 'a.com' },
      taskFunction: async () => {
        counter.enter();
        await new Promise((resolve) => setTimeout(resolve, 100));
        counter.leave();
      },
    });
    const held = [manager.triggerTask(update), manager.triggerTask(update)];
    await vi.advanceTimersByTimeAsync(0);
    expect(counter.current).toBe(1);

    manager.removeConstraintGroup('domain-mutex'); // By name

    // What waited only on the removed group is let go; new triggers are not held.
    await vi.advanceTimersByTimeAsync(0);
    expect(counter.current).toBe(2);
    const free = manager.triggerTask(update);
    expect(counter.current).toBe(3);
    await vi.advanceTimersByTimeAsync(100);
    await Promise.all([...held, free]);
    expect(manager.constraintGroups).toEqual([]);
    expect(manager.removeConstraintGroup('domain-mutex')).toBe(false);
  });
});
