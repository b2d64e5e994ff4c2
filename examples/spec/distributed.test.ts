import {
  type IDistributedTaskRequest,
  type ITaskEvent,
  InMemoryCoordinator,
  Task,
  TaskManager,
  distributedCoordination,
} from '@taskbuffer/core';
import { CronScheduler } from '@taskbuffer/scheduler';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// README § Distributed Coordination, verbatim but for the import line and the
// parameter types noted below. Cron needs a scheduler, so the tests of scheduled
// runs add `scheduler: new CronScheduler()` to the manager's options.

class RedisCoordinator extends distributedCoordination.AbstractDistributedCoordinator {
  // `request: IDistributedTaskRequest` added: a method's parameter is not typed from the
  // abstract base class, so the spec's bare `request` is an implicit `any` under `strict`.
  async fireDistributedTaskRequest(request: IDistributedTaskRequest) {
    // Implement leader election / distributed lock via Redis
    return { shouldTrigger: true, considered: true, rank: 1, reason: 'elected', ...request };
  }
  async updateDistributedTaskRequest(request: IDistributedTaskRequest) {
    /* update status */
  }
  async start() {
    /* connect */
  }
  async stop() {
    /* disconnect */
  }
}

describe('README: Distributed Coordination', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-01-01T10:00:00Z'));
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('takes a coordinator; start() and stop() start and stop it', async () => {
    const start = vi.spyOn(RedisCoordinator.prototype, 'start');
    const stop = vi.spyOn(RedisCoordinator.prototype, 'stop');

    const manager = new TaskManager({
      distributedCoordinator: new RedisCoordinator(),
    });

    expect(manager.distributedCoordinator).toBeInstanceOf(RedisCoordinator);
    await manager.start();
    expect(start).toHaveBeenCalledTimes(1);
    await manager.stop();
    expect(stop).toHaveBeenCalledTimes(1);
  });

  it('consults the coordinator before each scheduled run (not for direct triggers)', async () => {
    const fire = vi.spyOn(RedisCoordinator.prototype, 'fireDistributedTaskRequest');
    const update = vi.spyOn(RedisCoordinator.prototype, 'updateDistributedTaskRequest');
    const manager = new TaskManager({
      distributedCoordinator: new RedisCoordinator(),
      scheduler: new CronScheduler({ timezone: 'UTC' }),
    });
    const runs: number[] = [];
    const report = new Task({ name: 'report', version: '2', taskFunction: async () => void runs.push(Date.now()) });
    manager.addAndScheduleTask(report, '*/5 * * * *');

    await manager.triggerTask(report);
    expect(fire).not.toHaveBeenCalled();

    await manager.start();
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    const tick = Date.parse('2026-01-01T10:05:00Z');
    expect(runs).toEqual([Date.parse('2026-01-01T10:00:00Z'), tick]);
    expect(fire).toHaveBeenCalledTimes(1);
    expect(fire.mock.calls[0]![0]).toMatchObject({
      submitterId: manager.instanceId,
      taskName: 'report',
      taskVersion: '2',
      taskExecutionTime: tick,
      status: 'requesting',
    });
    expect(update).toHaveBeenCalledTimes(1);
    expect(update.mock.calls[0]![0]).toMatchObject({ taskName: 'report', taskExecutionTime: tick, status: 'succeeded' });
    await manager.stop();
  });

  it('"only the elected instance runs the task"', async () => {
    class ElsewhereCoordinator extends RedisCoordinator {
      override async fireDistributedTaskRequest(request: IDistributedTaskRequest) {
        return { ...(await super.fireDistributedTaskRequest(request)), shouldTrigger: false, reason: 'another instance won' };
      }
    }
    const manager = new TaskManager({
      distributedCoordinator: new ElsewhereCoordinator(),
      scheduler: new CronScheduler({ timezone: 'UTC' }),
    });
    const task = new Task({ name: 'report', taskFunction: async () => 'ran' });
    manager.addAndScheduleTask(task, '*/5 * * * *');
    const events: ITaskEvent[] = [];
    manager.taskSubject.subscribe((event) => events.push(event));
    await manager.start();
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(task.runCount).toBe(0);
    expect(events.map((event) => [event.type, event.reason])).toEqual([
      ['skipped', 'distributed coordinator: another instance won'],
      ['skipped', 'distributed coordinator: another instance won'],
    ]);
    await manager.stop();
  });

  it('runs each tick once across instances that share a coordinator', async () => {
    const coordinator = new InMemoryCoordinator();
    const runs: string[] = [];
    const managers = ['a', 'b', 'c'].map((instanceId) => {
      const manager = new TaskManager({ instanceId, distributedCoordinator: coordinator, scheduler: new CronScheduler() });
      manager.addAndScheduleTask(new Task({ name: 'report', taskFunction: async () => void runs.push(instanceId) }), '*/5 * * * *');
      return manager;
    });
    for (const manager of managers) await manager.start();
    await vi.advanceTimersByTimeAsync(15 * 60_000);
    expect(runs).toHaveLength(3);
    for (const manager of managers) await manager.stop();
  });
});
