import {
  type AnyTask,
  type ConstraintEngineHost,
  type ConstraintEnginePort,
  type ConstraintGroupPort,
  type ScheduledTick,
  type SchedulerHost,
  type SchedulerPort,
  Task,
  TaskCancelledError,
  TaskManager,
} from '@taskbuffer/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer, redisServerInstalled } from '../test/redis-server.js';
import { RedisCoordinator } from './redis-coordinator.js';

/** Fires ticks when the test says so, as a cron scheduler would at their second. */
class ManualScheduler implements SchedulerPort {
  host: SchedulerHost | undefined;
  schedule(): void {}
  unschedule(): boolean {
    return true;
  }
  start(host: SchedulerHost): void {
    this.host = host;
  }
  stop(): void {}
  getScheduledTasks() {
    return [];
  }
  getNextScheduledRuns() {
    return [];
  }
  getSchedule() {
    return undefined;
  }
  fire(taskName: string, tick: ScheduledTick): Promise<void> {
    return this.host!.runScheduledTask(taskName, tick);
  }
}

/** One run at a time: enough of a constraint group to keep a granted tick waiting. */
class OneAtATime implements ConstraintGroupPort {
  readonly name = 'one-at-a-time';
  readonly maxConcurrent = 1;
  readonly cooldownMs = 0;
  createConstraintEngine(host: ConstraintEngineHost): ConstraintEnginePort {
    const line: Array<{ task: AnyTask; options?: { signal?: AbortSignal }; resolve: (run: Promise<unknown>) => void }> = [];
    let running = 0;
    const start = (task: AnyTask, options?: { signal?: AbortSignal }): Promise<unknown> => {
      running++;
      return host.execute(task, undefined, () => {
        running--;
        const next = line.shift();
        if (next !== undefined) next.resolve(start(next.task, next.options));
      }, options);
    };
    return {
      addGroup() {},
      removeGroup() {},
      get waiting() {
        return line.length;
      },
      run: (task, _input, options) =>
        running === 0 ? start(task, options) : new Promise((resolve) => line.push({ task, options, resolve })),
      stop: (reason) => {
        for (const waiter of line.splice(0)) waiter.resolve(Promise.reject(new TaskCancelledError(waiter.task.name, reason)));
      },
    };
  }
}

describe.skipIf(!redisServerInstalled)('TaskManager with RedisCoordinator', () => {
  let server: RedisServer;

  beforeAll(async () => {
    server = await RedisServer.start();
  });

  afterAll(async () => {
    await server?.stop();
  });

  describe('abandonClaim and recordOutcome', () => {
    const request = (submitterId: string, taskName: string, tick: number, status: 'requesting' | 'cancelled' = 'requesting') => ({
      submitterId,
      requestResponseId: `${submitterId}:${taskName}:${tick}`,
      taskName,
      taskVersion: '1',
      taskExecutionTime: tick,
      taskExecutionTimeout: 0,
      taskExecutionParallel: 1,
      status,
    });

    it('hands a tick back once, counts it as cancelled, and records a cancelled run as an outcome', async () => {
      const keyPrefix = `abandon-${Math.random().toString(36).slice(2, 8)}:`;
      const a = new RedisCoordinator({ url: server.url, keyPrefix, gracePeriod: 15_000 });
      const b = new RedisCoordinator({ url: server.url, keyPrefix, gracePeriod: 15_000 });
      await Promise.all([a.start(), b.start()]);
      const tick = Math.floor(Date.now() / 1000) * 1000;
      const first = await a.fireDistributedTaskRequest(request('a', 'job', tick));
      expect(await b.abandonClaim(request('b', 'job', tick, 'cancelled'))).toBe('superseded');
      expect(await a.abandonClaim(request('a', 'job', tick, 'cancelled'))).toBe('abandoned');
      expect(await a.abandonClaim(request('a', 'job', tick, 'cancelled'))).toBe('ended');
      expect(await a.getTaskState('job')).toMatchObject({ status: 'cancelled', handedBack: true, cancelled: 1 });
      const second = await b.fireDistributedTaskRequest(request('b', 'job', tick));
      expect(second.shouldTrigger).toBe(true);
      expect(second.fence).toBeGreaterThan(first.fence);
      expect(await a.getTaskState('job')).toMatchObject({ owner: 'b', status: 'running', handedBack: false });
      // The new holder's run is cut by its stop: recorded as cancelled, and not handed back any more.
      expect(await b.recordOutcome(request('b', 'job', tick, 'cancelled'))).toBe('recorded');
      expect(await b.abandonClaim(request('b', 'job', tick, 'cancelled'))).toBe('ended');
      expect(await a.getTaskState('job')).toMatchObject({ status: 'cancelled', handedBack: false, cancelled: 2 });
      expect((await a.fireDistributedTaskRequest(request('c', 'job', tick))).shouldTrigger).toBe(false);
      await Promise.all([a.stop(), b.stop()]);
    });
  });

  describe('stop', () => {
    it('hands a claimed tick that has not started back, so another instance runs it within the grace period', async () => {
      const keyPrefix = `shutdown-${Math.random().toString(36).slice(2, 8)}:`;
      // A generous grace period: the tick must still be claimable after A's hand-back on a busy machine.
      const coordinatorA = new RedisCoordinator({ url: server.url, keyPrefix, gracePeriod: 15_000 });
      const coordinatorB = new RedisCoordinator({ url: server.url, keyPrefix, gracePeriod: 15_000 });
      const schedulerA = new ManualScheduler();
      const schedulerB = new ManualScheduler();
      const a = new TaskManager({ scheduler: schedulerA, distributedCoordinator: coordinatorA, instanceId: 'a' });
      const b = new TaskManager({ scheduler: schedulerB, distributedCoordinator: coordinatorB, instanceId: 'b' });
      a.addConstraintGroup(new OneAtATime());
      const ran: string[] = [];
      let release!: () => void;
      const busy = new Promise<void>((resolve) => (release = resolve));
      a.addTask(new Task({ name: 'backup', taskFunction: () => busy.then(() => void ran.push('a:backup')) }));
      a.addTask(new Task({ name: 'renew', taskFunction: async () => void ran.push('a:renew') }));
      b.addTask(new Task({ name: 'backup', taskFunction: async () => void ran.push('b:backup') }));
      b.addTask(new Task({ name: 'renew', taskFunction: async () => void ran.push('b:renew') }));
      await Promise.all([a.start(), b.start()]);
      const tick = Math.floor(Date.now() / 1000) * 1000;

      // A claims both ticks: `backup` runs, `renew` waits behind it.
      const ticksOfA = [schedulerA.fire('backup', { scheduledTime: tick }), schedulerA.fire('renew', { scheduledTime: tick })];
      await expect.poll(() => [a.running, a.waiting]).toEqual([1, 1]);
      expect((await coordinatorA.getTaskState('renew'))?.owner).toBe('a');
      // B asked at the same second and was refused: A holds both.
      await Promise.all([schedulerB.fire('backup', { scheduledTime: tick }), schedulerB.fire('renew', { scheduledTime: tick })]);
      expect(ran).toEqual([]);

      const stopping = a.stop({ timeoutMs: 10_000 });
      await expect.poll(async () => (await coordinatorA.getTaskState('renew'))?.status).toBe('cancelled');
      // An instance that asks now (a replacement starting during the rolling restart, a late timer) gets it.
      await schedulerB.fire('renew', { scheduledTime: tick });
      expect(ran).toEqual(['b:renew']);
      const renew = await coordinatorB.getTaskState('renew');
      expect(renew).toMatchObject({ owner: 'b', status: 'succeeded', lastTick: tick, succeeded: 1, cancelled: 1 });

      release();
      await Promise.all([stopping, ...ticksOfA]);
      expect(ran).toEqual(['b:renew', 'a:backup']);
      // Every claimed tick has its outcome in Redis; nothing stays `running`.
      expect(await coordinatorB.getTaskState('backup')).toMatchObject({ owner: 'a', status: 'succeeded', lastTick: tick });
      expect(a.state).toBe('stopped');
      await b.stop();
    });
  });
});
