import { describe, expect, it, vi } from 'vitest';
import * as distributedCoordination from './distributed-coordination.js';
import { InMemoryCoordinator, type IDistributedTaskRequest } from './distributed-coordination.js';
import { MissingPortError, TaskNotFoundError } from './errors.js';
import type { ScheduleOptions, ScheduledRunControl, ScheduledTick, SchedulerHost, SchedulerPort } from './ports.js';
import { Task } from './task.js';
import { TaskManager } from './task-manager.js';
import type { IScheduledRun, IScheduledTaskInfo, ITaskEvent } from './types.js';

/** A scheduler that fires only when told to, for testing the manager's side of the port. */
class ManualScheduler implements SchedulerPort {
  readonly schedules = new Map<string, { expression: string; options?: ScheduleOptions }>();
  host: SchedulerHost | undefined;
  stopped = false;

  schedule(taskName: string, expression: string, options?: ScheduleOptions): void {
    if (expression === 'invalid') throw new Error(`Invalid cron expression "${expression}"`);
    this.schedules.set(taskName, { expression, options });
  }
  unschedule(taskName: string): boolean {
    return this.schedules.delete(taskName);
  }
  start(host: SchedulerHost): void {
    this.host = host;
    this.stopped = false;
  }
  stop(): void {
    this.stopped = true;
  }
  getScheduledTasks(): IScheduledTaskInfo[] {
    return [...this.schedules].map(([name, { expression }]) => ({ name, schedule: expression, nextRun: new Date(0) }));
  }
  getNextScheduledRuns(limit: number): IScheduledRun[] {
    return [...this.schedules].slice(0, limit).map(([taskName, { expression }]) => ({
      taskName,
      schedule: expression,
      nextRun: new Date(0),
    }));
  }
  getSchedule(taskName: string) {
    const entry = this.schedules.get(taskName);
    return entry && { expression: entry.expression, nextRun: new Date(1_000) };
  }
  fire(taskName: string, tick: ScheduledTick, control?: ScheduledRunControl): Promise<void> {
    return this.host!.runScheduledTask(taskName, tick, control);
  }
}

const noop = (name: string, extra: Partial<ConstructorParameters<typeof Task>[0]> = {}) =>
  new Task({ name, taskFunction: async () => name, ...extra });

describe('TaskManager', () => {
  describe('addTask', () => {
    it('registers a task by name', () => {
      const manager = new TaskManager();
      const task = noop('a');
      manager.addTask(task);
      expect(manager.getTaskByName('a')).toBe(task);
      expect(manager.taskMap.getArray()).toEqual([task]);
    });

    it('requires a name', () => {
      const manager = new TaskManager();
      expect(() => manager.addTask(new Task({ taskFunction: async () => {} }))).toThrow(
        'Expected `task.name` to be a non-empty string',
      );
    });

    it('refuses a second task with the same name', () => {
      const manager = new TaskManager();
      manager.addTask(noop('a'));
      expect(() => manager.addTask(noop('a'))).toThrow('A different task named "a" is already registered');
    });
  });

  describe('removeTask', () => {
    it('removes the task and stops forwarding its events', async () => {
      const manager = new TaskManager();
      const task = noop('sync');
      manager.addTask(task);
      const events: string[] = [];
      manager.taskSubject.subscribe((event) => events.push(`${event.task.name}:${event.type}`));
      await task.trigger();
      expect(manager.removeTask(task)).toBe(true);
      await task.trigger();
      expect(events).toEqual(['sync:started', 'sync:completed']);
      expect(manager.getTaskByName('sync')).toBeUndefined();
      expect(manager.removeTask(task)).toBe(false);
    });
  });

  describe('taskSubject', () => {
    it('merges the events of every added task (spec example)', async () => {
      const manager = new TaskManager();
      const syncTask = noop('sync');
      const reportTask = noop('report');
      manager.addTask(syncTask);
      manager.addTask(reportTask);
      const events: ITaskEvent[] = [];
      manager.taskSubject.subscribe((event) => events.push(event));
      await manager.triggerTask(syncTask);
      await manager.triggerTaskByName('report');
      expect(events.map((event) => `${event.task.name}:${event.type}`)).toEqual([
        'sync:started',
        'sync:completed',
        'report:started',
        'report:completed',
      ]);
    });

    it('hands a task subscriber and the manager the same event', async () => {
      const manager = new TaskManager();
      const task = noop('shared');
      manager.addTask(task);
      const fromTask: ITaskEvent[] = [];
      const fromManager: ITaskEvent[] = [];
      task.eventSubject.subscribe((event) => fromTask.push(event));
      manager.taskSubject.subscribe((event) => fromManager.push(event));
      await task.trigger();
      expect(fromManager).toEqual(fromTask);
      expect(fromManager[0]).toBe(fromTask[0]);
    });

    it('carries labels so subscribers can route by tenant (spec example)', async () => {
      const manager = new TaskManager();
      const channels = new Map<string, string[]>();
      manager.taskSubject.subscribe((event) => {
        const tenantId = event.task.labels?.tenantId;
        if (tenantId) channels.set(tenantId, [...(channels.get(tenantId) ?? []), event.type]);
      });
      for (const tenantId of ['acme', 'globex']) {
        manager.addTask(new Task({ name: `${tenantId}:sync`, labels: { tenantId }, data: { tenantId }, taskFunction: async () => {} }));
      }
      await manager.triggerTaskByName('acme:sync');
      expect(channels).toEqual(new Map([['acme', ['started', 'completed']]]));
      expect(manager.getTasksMetadataByLabel('tenantId', 'acme').map((metadata) => metadata.name)).toEqual(['acme:sync']);
    });

    it('stops forwarding on stop() and resumes on start()', async () => {
      const manager = new TaskManager();
      const task = noop('lifecycle');
      manager.addTask(task);
      const events: string[] = [];
      manager.taskSubject.subscribe((event) => events.push(event.type));
      await manager.stop();
      await task.trigger();
      expect(events).toEqual([]);
      await manager.start();
      await task.trigger();
      expect(events).toEqual(['started', 'completed']);
      await manager.stop();
    });
  });

  describe('triggerTaskByName', () => {
    it('passes the input and resolves with the result', async () => {
      const manager = new TaskManager();
      manager.addTask(new Task({ name: 'double', taskFunction: async (x: number) => x * 2 }));
      await expect(manager.triggerTaskByName('double', 21)).resolves.toBe(42);
    });

    it('rejects with TaskNotFoundError for an unknown name', async () => {
      const manager = new TaskManager();
      const error = await manager.triggerTaskByName('Deploy').catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(TaskNotFoundError);
      expect((error as TaskNotFoundError).taskName).toBe('Deploy');
    });
  });

  describe('metadata queries', () => {
    it('returns one, all, or the tasks with a label (spec example)', () => {
      const manager = new TaskManager();
      const orderTask1 = new Task({ name: 'o1', labels: { tenantId: 'acme' }, taskFunction: async () => {} });
      const orderTask2 = new Task({ name: 'o2', labels: { tenantId: 'globex' }, taskFunction: async () => {} });
      const orderTask3 = new Task({ name: 'o3', labels: { tenantId: 'acme' }, taskFunction: async () => {} });
      manager.addTask(orderTask1);
      manager.addTask(orderTask2);
      manager.addTask(orderTask3);
      expect(manager.getTasksByLabel('tenantId', 'acme')).toEqual([orderTask1, orderTask3]);
      expect(manager.getTasksMetadataByLabel('tenantId', 'acme').map((m) => m.name)).toEqual(['o1', 'o3']);
      expect(manager.getAllTasksMetadata().map((m) => m.name)).toEqual(['o1', 'o2', 'o3']);
      expect(manager.getTaskMetadata('o2')).toMatchObject({ name: 'o2', status: 'idle', runCount: 0, errorCount: 0 });
      expect(manager.getTaskMetadata('missing')).toBeNull();
    });
  });

  describe('addExecuteRemoveTask', () => {
    it('adds, runs, reports and removes (spec example)', async () => {
      const manager = new TaskManager();
      const temporaryTask = new Task({
        name: 'TempTask',
        steps: [
          { name: 'step1', description: 'one', percentage: 50 },
          { name: 'step2', description: 'two', percentage: 50 },
        ] as const,
        taskFunction: async () => {
          temporaryTask.notifyStep('step1');
          await new Promise((resolve) => setTimeout(resolve, 5));
          temporaryTask.notifyStep('step2');
          return 'result';
        },
      });
      const report = await manager.addExecuteRemoveTask(temporaryTask);
      expect(report).toMatchObject({
        taskName: 'TempTask',
        stepsCompleted: ['step1', 'step2'],
        progress: 100,
        result: 'result',
      });
      expect(report.duration).toBe(report.endTime - report.startTime);
      expect(report.duration).toBeGreaterThanOrEqual(4);
      expect(report.steps).toHaveLength(2);
      expect(manager.getTaskByName('TempTask')).toBeUndefined();
    });

    it('registers nothing when its options are refused', async () => {
      const manager = new TaskManager();
      const taskFunction = vi.fn(async () => {});
      await expect(manager.addExecuteRemoveTask(new Task({ name: 'temp', taskFunction }), 5 as never)).rejects.toThrow(
        'Expected `options` to be an object',
      );
      expect(manager.getTaskByName('temp')).toBeUndefined();
      expect(taskFunction).not.toHaveBeenCalled();
    });

    it('removes the task even when it fails', async () => {
      const manager = new TaskManager();
      const task = new Task({
        name: 'Failing',
        taskFunction: async () => {
          throw new Error('nope');
        },
      });
      await expect(manager.addExecuteRemoveTask(task)).rejects.toThrow('nope');
      expect(manager.getTaskByName('Failing')).toBeUndefined();
    });
  });

  describe('scheduling without a scheduler', () => {
    it('throws an error that says what to install', () => {
      const manager = new TaskManager();
      const task = noop('backup');
      expect(() => manager.addAndScheduleTask(task, '0 2 * * *')).toThrow(MissingPortError);
      expect(() => manager.addAndScheduleTask(task, '0 2 * * *')).toThrow(
        /install @taskbuffer\/scheduler and pass .*new CronScheduler\(\)/,
      );
      expect(manager.getTaskByName('backup')).toBeUndefined();
      expect(manager.getScheduledTasks()).toEqual([]);
      expect(manager.getNextScheduledRuns(5)).toEqual([]);
    });
  });

  describe('scheduling through the scheduler port', () => {
    it('registers schedules, shows them in metadata and removes them', () => {
      const scheduler = new ManualScheduler();
      const manager = new TaskManager({ scheduler });
      const backupTask = noop('backup');
      manager.addAndScheduleTask(backupTask, '0 2 * * *', { timezone: 'Europe/Berlin' });
      expect(scheduler.schedules.get('backup')).toEqual({ expression: '0 2 * * *', options: { timezone: 'Europe/Berlin' } });
      expect(backupTask.getMetadata()).toMatchObject({ cronSchedule: '0 2 * * *', nextRun: new Date(1_000) });
      expect(manager.getScheduledTasks()[0]).toMatchObject({ name: 'backup', schedule: '0 2 * * *' });
      expect(manager.getScheduledTasks()[0]!.metadata?.name).toBe('backup');
      expect(manager.descheduleTaskByName('backup')).toBe(true);
      expect(backupTask.getMetadata().cronSchedule).toBeUndefined();
      expect(manager.getTaskByName('backup')).toBe(backupTask);
    });

    it('throws TaskNotFoundError when scheduling an unknown name', () => {
      const manager = new TaskManager({ scheduler: new ManualScheduler() });
      expect(() => manager.scheduleTaskByName('ghost', '* * * * *')).toThrow(TaskNotFoundError);
    });

    it('registers nothing when addAndScheduleTask is given a bad expression, so a retry works', () => {
      const scheduler = new ManualScheduler();
      const manager = new TaskManager({ scheduler });
      expect(() => manager.addAndScheduleTask(noop('report'), 'invalid')).toThrow('Invalid cron expression "invalid"');
      expect(manager.getTaskByName('report')).toBeUndefined();
      expect(scheduler.schedules.has('report')).toBe(false);
      const retry = noop('report');
      manager.addAndScheduleTask(retry, '0 * * * *');
      expect(manager.getTaskByName('report')).toBe(retry);
      expect(scheduler.schedules.get('report')?.expression).toBe('0 * * * *');
    });

    it('schedules nothing when addAndScheduleTask is given a task it cannot register', () => {
      const scheduler = new ManualScheduler();
      const manager = new TaskManager({ scheduler });
      manager.addTask(noop('taken'));
      expect(() => manager.addAndScheduleTask(noop('taken'), '* * * * *')).toThrow('A different task named "taken"');
      expect(() => manager.addAndScheduleTask(noop(''), '* * * * *')).toThrow(TypeError);
      expect(() => manager.addAndScheduleTask(null as never, '* * * * *')).toThrow(TypeError);
      expect(scheduler.schedules.size).toBe(0);
    });

    it('keeps a task that was registered before when scheduling it fails', () => {
      const manager = new TaskManager({ scheduler: new ManualScheduler() });
      const task = noop('kept');
      manager.addTask(task);
      expect(() => manager.addAndScheduleTask(task, 'invalid')).toThrow('Invalid cron expression');
      expect(manager.getTaskByName('kept')).toBe(task);
    });

    it('lets the scheduler refuse a bad expression at schedule time', () => {
      const manager = new TaskManager({ scheduler: new ManualScheduler() });
      manager.addTask(noop('t'));
      expect(() => manager.scheduleTaskByName('t', 'invalid')).toThrow('Invalid cron expression "invalid"');
    });

    it('unschedules a task that is removed', () => {
      const scheduler = new ManualScheduler();
      const manager = new TaskManager({ scheduler });
      manager.addAndScheduleTask(noop('t'), '* * * * *');
      manager.removeTask('t');
      expect(scheduler.schedules.has('t')).toBe(false);
    });

    it('runs a scheduled tick and stops the scheduler on stop()', async () => {
      const scheduler = new ManualScheduler();
      const manager = new TaskManager({ scheduler });
      const taskFunction = vi.fn(async () => {});
      manager.addAndScheduleTask(new Task({ name: 'tick', taskFunction }), '* * * * * *');
      await manager.start();
      await scheduler.fire('tick', { scheduledTime: 1_000 });
      expect(taskFunction).toHaveBeenCalledTimes(1);
      await manager.stop();
      expect(scheduler.stopped).toBe(true);
    });

    it('never rejects into the scheduler when a scheduled run fails', async () => {
      const scheduler = new ManualScheduler();
      const manager = new TaskManager({ scheduler });
      const task = new Task({
        name: 'broken',
        taskFunction: async () => {
          throw new Error('scheduled failure');
        },
      });
      manager.addAndScheduleTask(task, '* * * * * *');
      await manager.start();
      await expect(scheduler.fire('broken', { scheduledTime: 1_000 })).resolves.toBeUndefined();
      expect(task.lastError?.message).toBe('scheduled failure');
      await manager.stop();
    });
  });

  describe('start and stop', () => {
    it('leaves the scheduler off when stop() comes while start() waits for the coordinator', async () => {
      let finishStart!: () => void;
      const coordinator = new InMemoryCoordinator();
      coordinator.start = () => new Promise<void>((resolve) => (finishStart = resolve));
      const scheduler = new ManualScheduler();
      const manager = new TaskManager({ scheduler, distributedCoordinator: coordinator });
      const starting = manager.start();
      const stopping = manager.stop();
      finishStart();
      await starting;
      await stopping;
      expect(scheduler.host).toBeUndefined();
    });

    it('still stops the coordinator and releases waiting work when the scheduler fails to stop', async () => {
      const scheduler = new ManualScheduler();
      scheduler.stop = () => {
        throw new Error('scheduler stop failed');
      };
      const coordinator = new InMemoryCoordinator();
      const stopCoordinator = vi.spyOn(coordinator, 'stop');
      const manager = new TaskManager({ scheduler, distributedCoordinator: coordinator });
      const task = noop('t');
      manager.addTask(task);
      const events: string[] = [];
      manager.taskSubject.subscribe((event) => events.push(event.type));
      await manager.start();
      await expect(manager.stop()).rejects.toThrow('scheduler stop failed');
      expect(stopCoordinator).toHaveBeenCalledTimes(1);
      await task.trigger();
      expect(events).toEqual([]);
    });

    it('can start again after a failed start', async () => {
      const coordinator = new InMemoryCoordinator();
      let fail = true;
      coordinator.start = async () => {
        if (fail) throw new Error('no redis');
      };
      const scheduler = new ManualScheduler();
      const manager = new TaskManager({ scheduler, distributedCoordinator: coordinator });
      await expect(manager.start()).rejects.toThrow('no redis');
      fail = false;
      await manager.start();
      expect(scheduler.host).toBeDefined();
      await manager.stop();
    });
  });

  describe('distributed coordination of scheduled runs', () => {
    it('tells the scheduler that a tick waiting for its claim is not a run yet, and begins the run once granted', async () => {
      const coordinator = new InMemoryCoordinator();
      let answer!: () => void;
      const fire = coordinator.fireDistributedTaskRequest.bind(coordinator);
      coordinator.fireDistributedTaskRequest = async (request) => {
        await new Promise<void>((resolve) => (answer = resolve));
        return fire(request);
      };
      const scheduler = new ManualScheduler();
      const manager = new TaskManager({ scheduler, distributedCoordinator: coordinator });
      const runs: number[] = [];
      manager.addTask(new Task({ name: 'claimed', taskFunction: async () => void runs.push(Date.now()) }));
      await manager.start();
      const steps: string[] = [];
      let allowed = true;
      const control: ScheduledRunControl = {
        defer: () => steps.push('defer'),
        begin: () => {
          steps.push(runs.length === 0 ? 'begin before the run' : 'begin after the run');
          return allowed;
        },
      };
      const first = scheduler.fire('claimed', { scheduledTime: 1_000 }, control);
      await vi.waitFor(() => expect(answer).toBeTypeOf('function'));
      expect(steps).toEqual(['defer']);
      answer();
      await first;
      expect(steps).toEqual(['defer', 'begin before the run']);
      expect(runs).toHaveLength(1);
      // A grant the scheduler turns down (a run began meanwhile) runs nothing.
      allowed = false;
      const second = scheduler.fire('claimed', { scheduledTime: 2_000 }, control);
      await vi.waitFor(() => expect(steps).toHaveLength(3));
      answer();
      await second;
      expect(runs).toHaveLength(1);
      await manager.stop();
    });

    it('runs each tick once across managers that share a coordinator decision space', async () => {
      const coordinator = new InMemoryCoordinator();
      const runs: string[] = [];
      const instances = ['a', 'b', 'c'].map((instanceId) => {
        const scheduler = new ManualScheduler();
        const manager = new TaskManager({ scheduler, distributedCoordinator: coordinator, instanceId });
        manager.addAndScheduleTask(new Task({ name: 'report', taskFunction: async () => void runs.push(instanceId) }), '* * * * * *');
        return { manager, scheduler };
      });
      for (const { manager } of instances) await manager.start();
      for (const scheduledTime of [1_000, 2_000, 3_000]) {
        await Promise.all(instances.map(({ scheduler }) => scheduler.fire('report', { scheduledTime })));
      }
      expect(runs).toHaveLength(3);
      for (const { manager } of instances) await manager.stop();
    });

    it('sends the tick as taskExecutionTime, reports the outcome and a refused tick as skipped', async () => {
      const requests: IDistributedTaskRequest[] = [];
      const updates: IDistributedTaskRequest[] = [];
      const coordinator = new InMemoryCoordinator();
      const fire = coordinator.fireDistributedTaskRequest.bind(coordinator);
      coordinator.fireDistributedTaskRequest = async (request) => {
        requests.push({ ...request });
        return fire(request);
      };
      coordinator.updateDistributedTaskRequest = async (request) => void updates.push({ ...request });
      const scheduler = new ManualScheduler();
      const manager = new TaskManager({ scheduler, distributedCoordinator: coordinator, instanceId: 'node-1' });
      const task = new Task({ name: 'job', version: '2.1.0', timeout: 5_000, taskFunction: async () => {} });
      manager.addAndScheduleTask(task, '* * * * * *');
      const events: ITaskEvent[] = [];
      manager.taskSubject.subscribe((event) => events.push(event));
      await manager.start();
      await scheduler.fire('job', { scheduledTime: 5_000 });
      await scheduler.fire('job', { scheduledTime: 4_000 });
      expect(requests[0]).toEqual({
        submitterId: 'node-1',
        requestResponseId: 'node-1:job:5000',
        taskName: 'job',
        taskVersion: '2.1.0',
        taskExecutionTime: 5_000,
        taskExecutionTimeout: 5_000,
        taskExecutionParallel: 1,
        status: 'requesting',
      });
      expect(updates).toEqual([{ ...requests[0], status: 'succeeded' }]);
      expect(task.runCount).toBe(1);
      const skipped = events.filter((event) => event.type === 'skipped');
      expect(skipped).toHaveLength(1);
      expect(skipped[0]).toMatchObject({ scheduledTime: 4_000 });
      expect(skipped[0]!.reason).toContain('distributed coordinator');
      await manager.stop();
    });

    it('skips the tick when the coordinator throws, without rejecting', async () => {
      const coordinator = new InMemoryCoordinator();
      coordinator.fireDistributedTaskRequest = async () => {
        throw new Error('connection refused');
      };
      const scheduler = new ManualScheduler();
      const manager = new TaskManager({ scheduler, distributedCoordinator: coordinator });
      const taskFunction = vi.fn(async () => {});
      manager.addAndScheduleTask(new Task({ name: 'job', taskFunction }), '* * * * * *');
      const reasons: (string | undefined)[] = [];
      manager.taskSubject.subscribe((event) => reasons.push(event.reason));
      await manager.start();
      await expect(scheduler.fire('job', { scheduledTime: 1_000 })).resolves.toBeUndefined();
      expect(taskFunction).not.toHaveBeenCalled();
      expect(reasons).toEqual(['distributed coordinator failed: connection refused']);
      await manager.stop();
    });
  });

  describe('a coordinator written by the user (spec example)', () => {
    it('is consulted before every scheduled run and started and stopped with the manager', async () => {
      const calls: string[] = [];
      class RedisCoordinator extends distributedCoordination.AbstractDistributedCoordinator {
        async fireDistributedTaskRequest(request: IDistributedTaskRequest) {
          calls.push(`fire:${request.taskExecutionTime}`);
          return { shouldTrigger: true, considered: true, rank: 1, reason: 'elected', ...request };
        }
        async updateDistributedTaskRequest(request: IDistributedTaskRequest) {
          calls.push(`update:${request.status}`);
        }
        async start() {
          calls.push('start');
        }
        async stop() {
          calls.push('stop');
        }
      }
      const scheduler = new ManualScheduler();
      const manager = new TaskManager({ scheduler, distributedCoordinator: new RedisCoordinator() });
      manager.addAndScheduleTask(new Task({ name: 'elected', taskFunction: async () => void calls.push('run') }), '* * * * * *');
      await manager.start();
      await scheduler.fire('elected', { scheduledTime: 7_000 });
      await manager.stop();
      expect(calls).toEqual(['start', 'fire:7000', 'run', 'update:succeeded', 'stop']);
    });
  });

  describe('addConstraintGroup', () => {
    it('registers nothing for a group without a name or one the engine refuses', () => {
      const manager = new TaskManager();
      const engine = {
        addGroup: vi.fn((group: { name: string }) => {
          if (group.name === 'refused') throw new TypeError('refused by the engine');
        }),
        removeGroup: vi.fn(),
        run: vi.fn(),
        stop: vi.fn(),
      };
      const group = (name: unknown) => ({ name, maxConcurrent: 1, cooldownMs: 0, createConstraintEngine: () => engine });
      expect(() => manager.addConstraintGroup(group(5) as never)).toThrow('Expected `group.name` to be a non-empty string');
      expect(() => manager.addConstraintGroup(group('refused') as never)).toThrow('refused by the engine');
      expect(manager.constraintGroups).toEqual([]);
      expect(engine.addGroup).toHaveBeenCalledTimes(1);
      manager.addConstraintGroup(group('accepted') as never);
      expect(manager.constraintGroups.map((added) => added.name)).toEqual(['accepted']);
    });
  });

  describe('constructor', () => {
    it('rejects a scheduler that is not one', () => {
      expect(() => new TaskManager({ scheduler: {} as never })).toThrow('Expected `scheduler` to be a scheduler');
    });

    it('rejects an instanceId that is not a non-empty string and a clock that is not one', () => {
      expect(() => new TaskManager({ instanceId: 5 as never })).toThrow(
        'Expected `instanceId` to be a non-empty string, got `5` (number)',
      );
      expect(() => new TaskManager({ instanceId: '' })).toThrow(TypeError);
      expect(() => new TaskManager({ clock: 5 as never })).toThrow(
        'Expected `clock` to be a Clock with `now`, `setTimeout` and `clearTimeout` functions, got `5` (number)',
      );
      expect(() => new TaskManager({ clock: { now: () => 0 } as never })).toThrow(TypeError);
    });
  });
});
