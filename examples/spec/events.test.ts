import { type ITaskEvent, Task, TaskManager } from '@taskbuffer/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { captureConsole } from './support/console.js';

// README § Push-Based Events. Each `it` holds one example, verbatim but for the
// import line; stand-ins come first, assertions after.

describe('README: Push-Based Events', () => {
  let output: ReturnType<typeof captureConsole>;
  beforeEach(() => {
    output = captureConsole();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('streams a task lifecycle on task.eventSubject', async () => {
    const fetchData = async () => ['row'];
    const savedData: unknown[] = [];
    const saveData = async (data: unknown) => void savedData.push(data);
    const events: ITaskEvent[] = [];

    const task = new Task({
      name: 'DataSync',
      steps: [
        { name: 'fetch', description: 'Fetching data', percentage: 50 },
        { name: 'save', description: 'Saving data', percentage: 50 },
      ] as const,
      taskFunction: async () => {
        task.notifyStep('fetch');
        const data = await fetchData();
        task.notifyStep('save');
        await saveData(data);
      },
    });

    // Subscribe to individual task events
    task.eventSubject.subscribe((event: ITaskEvent) => {
      console.log(`[${event.type}] ${event.task.name} @ ${new Date(event.timestamp).toISOString()}`);
      if (event.type === 'step') console.log(` Step: ${event.stepName}`);
      if (event.type === 'failed') console.log(` Error: ${event.error}`);
    });
    task.eventSubject.subscribe((event) => events.push(event)); // (not in the spec: keeps the events for assertions)

    await task.trigger();
    // [started] DataSync @ 2025-01-26T...
    // [step] DataSync @ 2025-01-26T...
    // Step: fetch
    // [step] DataSync @ 2025-01-26T...
    // Step: save
    // [completed] DataSync @ 2025-01-26T...

    const iso = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`;
    expect(output.log).toHaveLength(6);
    const expected = [
      new RegExp(`^\\[started\\] DataSync @ ${iso}$`),
      new RegExp(`^\\[step\\] DataSync @ ${iso}$`),
      /^ Step: fetch$/,
      new RegExp(`^\\[step\\] DataSync @ ${iso}$`),
      /^ Step: save$/,
      new RegExp(`^\\[completed\\] DataSync @ ${iso}$`),
    ];
    output.log.forEach((line, index) => expect(line).toMatch(expected[index]!));
    expect(savedData).toEqual([['row']]);

    // "Every event includes a full ITaskMetadata snapshot at the time of emission."
    expect(events.map((event) => [event.type, event.task.status, event.task.currentStep])).toEqual([
      ['started', 'running', undefined],
      ['step', 'running', 'fetch'],
      ['step', 'running', 'save'],
      ['completed', 'completed', 'save'],
    ]);
    expect(events.map((event) => event.task.currentProgress)).toEqual([0, 0, 50, 100]);
  });

  it('Event Types: failed carries the error message', async () => {
    const task = new Task({
      name: 'Flaky',
      labels: { tenantId: 'acme' },
      taskFunction: async () => {
        throw new Error('upstream 503');
      },
    });
    const events: ITaskEvent[] = [];
    task.eventSubject.subscribe((event) => events.push(event));
    await expect(task.trigger()).rejects.toThrow('upstream 503');
    expect(events.map((event) => event.type)).toEqual(['started', 'failed']);
    expect(events[1]).toMatchObject({ error: 'upstream 503', task: { status: 'failed', labels: { tenantId: 'acme' } } });
    expect(typeof events[1]!.timestamp).toBe('number');
  });

  it('Aggregated Events on TaskManager', async () => {
    const task = (name: string) => new Task({ name, taskFunction: async () => name });
    const syncTask = task('sync');
    const reportTask = task('report');
    const cleanupTask = task('cleanup');
    const dashboardFeed: string[] = [];
    const sendToMonitoringDashboard = (event: ITaskEvent) => dashboardFeed.push(`${event.type} ${event.task.name}`);

    const manager = new TaskManager();
    manager.addTask(syncTask);
    manager.addTask(reportTask);
    manager.addTask(cleanupTask);

    // Single subscription for ALL task events
    manager.taskSubject.subscribe((event) => {
      sendToMonitoringDashboard(event);
    });

    await syncTask.trigger();
    await manager.triggerTask(reportTask);
    await manager.triggerTaskByName('cleanup');
    expect(dashboardFeed).toEqual([
      'started sync',
      'completed sync',
      'started report',
      'completed report',
      'started cleanup',
      'completed cleanup',
    ]);
    dashboardFeed.length = 0;

    // Events stop flowing for a task after removal
    manager.removeTask(syncTask);

    await syncTask.trigger();
    await reportTask.trigger();
    expect(dashboardFeed).toEqual(['started report', 'completed report']);
    dashboardFeed.length = 0;

    // "manager.stop() automatically cleans up all event subscriptions."
    await manager.stop();
    await reportTask.trigger();
    await cleanupTask.trigger();
    expect(dashboardFeed).toEqual([]);
  });
});
