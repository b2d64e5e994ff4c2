import {
  type IDistributedTaskRequest,
  InMemoryCoordinator,
  type ITaskEvent,
  MissingPortError,
  Task,
  TaskManager,
  TaskNotFoundError,
} from '@taskbuffer/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CronScheduler } from './cron-scheduler.js';
import { InvalidCronExpressionError } from './errors.js';

function counterTask(name: string, run?: () => unknown) {
  const starts: number[] = [];
  const task = new Task({
    name,
    taskFunction: async () => {
      starts.push(Date.now());
      return run?.();
    },
  });
  return { task, starts };
}

describe('CronScheduler', () => {
  describe('with a TaskManager', () => {
    beforeEach(() => {
      vi.useFakeTimers();
      vi.setSystemTime(new Date('2026-01-01T10:00:00Z'));
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it('runs the spec API: addAndScheduleTask, metadata, getScheduledTasks, getNextScheduledRuns, deschedule', async () => {
      const manager = new TaskManager({ scheduler: new CronScheduler({ timezone: 'UTC' }) });
      const backup = counterTask('backup');
      const health = counterTask('health');
      manager.addAndScheduleTask(backup.task, '0 2 * * *');
      manager.addAndScheduleTask(health.task, '*/5 * * * * *');
      await manager.start();

      await vi.advanceTimersByTimeAsync(15_000);
      expect(health.starts).toEqual([
        Date.parse('2026-01-01T10:00:05Z'),
        Date.parse('2026-01-01T10:00:10Z'),
        Date.parse('2026-01-01T10:00:15Z'),
      ]);
      const metadata = manager.getTaskMetadata('health')!;
      expect(metadata.cronSchedule).toBe('*/5 * * * * *');
      expect(metadata.nextRun).toEqual(new Date('2026-01-01T10:00:20Z'));
      expect(metadata.runCount).toBe(3);
      expect(manager.getTaskMetadata('backup')!.nextRun).toEqual(new Date('2026-01-02T02:00:00Z'));

      const scheduled = manager.getScheduledTasks();
      expect(scheduled.map(({ name, schedule, timezone }) => ({ name, schedule, timezone }))).toEqual([
        { name: 'backup', schedule: '0 2 * * *', timezone: 'UTC' },
        { name: 'health', schedule: '*/5 * * * * *', timezone: 'UTC' },
      ]);
      expect(scheduled[1]!.lastRun).toEqual(new Date('2026-01-01T10:00:15Z'));
      expect(scheduled[1]!.metadata?.runCount).toBe(3);
      expect(manager.getNextScheduledRuns(5)).toEqual([
        { taskName: 'health', nextRun: new Date('2026-01-01T10:00:20Z'), schedule: '*/5 * * * * *' },
        { taskName: 'backup', nextRun: new Date('2026-01-02T02:00:00Z'), schedule: '0 2 * * *' },
      ]);

      expect(manager.descheduleTaskByName('health')).toBe(true);
      await vi.advanceTimersByTimeAsync(20_000);
      expect(health.starts).toHaveLength(3);
      expect(manager.getTaskMetadata('health')!.cronSchedule).toBeUndefined();
      expect(manager.getTaskByName('health')).toBe(health.task);

      manager.scheduleTaskByName('health', '* * * * * *');
      await vi.advanceTimersByTimeAsync(2000);
      expect(health.starts).toHaveLength(5);
      await manager.stop();
    });

    it('fails at schedule time: unknown task, invalid expression, unknown time zone', () => {
      const manager = new TaskManager({ scheduler: new CronScheduler({ timezone: 'UTC' }) });
      manager.addTask(counterTask('known').task);
      expect(() => manager.scheduleTaskByName('unknown', '* * * * *')).toThrow(TaskNotFoundError);
      expect(() => manager.scheduleTaskByName('known', '* * * 13 *')).toThrow(InvalidCronExpressionError);
      expect(() => manager.scheduleTaskByName('known', '* * * * *', { timezone: 'Atlantis/Capital' })).toThrow(
        /"Atlantis\/Capital"/,
      );
      expect(manager.getScheduledTasks()).toEqual([]);
      expect(() => new TaskManager().addAndScheduleTask(counterTask('x').task, '* * * * *')).toThrow(MissingPortError);
    });

    it('honours a per-schedule time zone over the scheduler default', async () => {
      const manager = new TaskManager({ scheduler: new CronScheduler({ timezone: 'Europe/Berlin' }) });
      const berlin = counterTask('berlin');
      const tokyo = counterTask('tokyo');
      manager.addAndScheduleTask(berlin.task, '0 12 * * *');
      manager.addAndScheduleTask(tokyo.task, '0 12 * * *', { timezone: 'Asia/Tokyo' });
      await manager.start();
      await vi.advanceTimersByTimeAsync(24 * 3_600_000);
      expect(berlin.starts).toEqual([Date.parse('2026-01-01T11:00:00Z')]);
      expect(tokyo.starts).toEqual([Date.parse('2026-01-02T03:00:00Z')]);
      await manager.stop();
    });

    it('runs a Berlin 02:30 job at 03:00 CEST on the spring-forward night, and once on the fall-back night', async () => {
      vi.setSystemTime(new Date('2026-03-28T12:00:00Z'));
      const manager = new TaskManager({ scheduler: new CronScheduler({ timezone: 'Europe/Berlin' }) });
      const nightly = counterTask('nightly');
      manager.addAndScheduleTask(nightly.task, '30 2 * * *');
      await manager.start();
      await vi.advanceTimersByTimeAsync(2 * 86_400_000);
      expect(nightly.starts).toEqual([Date.parse('2026-03-29T01:00:00Z'), Date.parse('2026-03-30T00:30:00Z')]);
      await manager.stop();

      vi.setSystemTime(new Date('2026-10-24T12:00:00Z'));
      await manager.start();
      nightly.starts.length = 0;
      await vi.advanceTimersByTimeAsync(2 * 86_400_000);
      expect(nightly.starts).toEqual([Date.parse('2026-10-25T00:30:00Z'), Date.parse('2026-10-26T01:30:00Z')]);
      await manager.stop();
    });

    it('reports an overlapping tick as a skipped event with its scheduled time', async () => {
      const manager = new TaskManager({ scheduler: new CronScheduler({ timezone: 'UTC' }) });
      const events: ITaskEvent[] = [];
      manager.taskSubject.subscribe((event) => events.push(event));
      const slow = counterTask('slow', () => new Promise((resolve) => setTimeout(resolve, 2500)));
      manager.addAndScheduleTask(slow.task, '* * * * * *');
      await manager.start();
      await vi.advanceTimersByTimeAsync(4000);
      expect(slow.starts).toEqual([Date.parse('2026-01-01T10:00:01Z'), Date.parse('2026-01-01T10:00:04Z')]);
      const skipped = events.filter((event) => event.type === 'skipped');
      expect(skipped.map((event) => [event.scheduledTime, event.reason])).toEqual([
        [Date.parse('2026-01-01T10:00:02Z'), 'overlap: the previous run is still running'],
        [Date.parse('2026-01-01T10:00:03Z'), 'overlap: the previous run is still running'],
      ]);
      await manager.stop({ timeoutMs: 0 });
    });

    it('asks the coordinator with the scheduled tick, so two instances run each tick once', async () => {
      const coordinator = new InMemoryCoordinator();
      const requests: IDistributedTaskRequest[] = [];
      const fire = coordinator.fireDistributedTaskRequest.bind(coordinator);
      coordinator.fireDistributedTaskRequest = async (request) => {
        requests.push({ ...request });
        return fire(request);
      };
      const instances = ['a', 'b'].map((instanceId) => {
        const manager = new TaskManager({
          instanceId,
          scheduler: new CronScheduler({ timezone: 'UTC' }),
          distributedCoordinator: coordinator,
        });
        const job = counterTask('job');
        manager.addAndScheduleTask(job.task, '*/2 * * * * *');
        return { manager, job };
      });
      for (const { manager } of instances) await manager.start();
      await vi.advanceTimersByTimeAsync(10_000);
      const total = instances.reduce((sum, { job }) => sum + job.starts.length, 0);
      expect(total).toBe(5);
      const ticks = requests.map((request) => request.taskExecutionTime);
      expect(new Set(ticks)).toEqual(
        new Set([2, 4, 6, 8, 10].map((second) => Date.parse(`2026-01-01T10:00:${String(second).padStart(2, '0')}Z`))),
      );
      expect(requests).toHaveLength(10);
      expect(requests.every((request) => request.taskName === 'job' && request.status === 'requesting')).toBe(true);
      for (const { manager } of instances) await manager.stop();
    });

    it('leaves no timer behind after stop, and picks up again after start', async () => {
      const manager = new TaskManager({ scheduler: new CronScheduler({ timezone: 'UTC' }) });
      const job = counterTask('job');
      manager.addAndScheduleTask(job.task, '* * * * * *');
      expect(vi.getTimerCount()).toBe(0);
      await manager.start();
      expect(vi.getTimerCount()).toBe(1);
      await vi.advanceTimersByTimeAsync(1000);
      await manager.stop();
      expect(vi.getTimerCount()).toBe(0);
      await vi.advanceTimersByTimeAsync(5000);
      expect(job.starts).toHaveLength(1);
      await manager.start();
      await vi.advanceTimersByTimeAsync(1000);
      expect(job.starts).toEqual([Date.parse('2026-01-01T10:00:01Z'), Date.parse('2026-01-01T10:00:07Z')]);
      await manager.stop();
    });

    it('treats a forward jump of the system clock as missed ticks', async () => {
      const manager = new TaskManager({ scheduler: new CronScheduler({ timezone: 'UTC' }) });
      const events: ITaskEvent[] = [];
      manager.taskSubject.subscribe((event) => events.push(event));
      const job = counterTask('job');
      manager.addAndScheduleTask(job.task, '* * * * *');
      await manager.start();
      vi.setSystemTime(new Date('2026-01-01T12:00:30Z'));
      await vi.advanceTimersByTimeAsync(60_000);
      expect(job.starts).toEqual([]);
      const skipped = events.filter((event) => event.type === 'skipped');
      // 121 ticks missed: 99 reported one by one, the last one sums up the rest.
      expect(skipped).toHaveLength(100);
      expect(skipped[0]!.scheduledTime).toBe(Date.parse('2026-01-01T10:01:00Z'));
      expect(skipped.at(-1)!.scheduledTime).toBe(Date.parse('2026-01-01T12:01:00Z'));
      expect(skipped.at(-1)!.reason).toBe(
        'missed: the process was suspended or the clock jumped forward (and 21 earlier missed ticks, not reported one by one)',
      );
      await vi.advanceTimersByTimeAsync(60_000);
      expect(job.starts).toEqual([Date.parse('2026-01-01T12:02:00Z')]);
      await manager.stop();
    });
  });
});
