import { TaskConstraintGroup } from '@taskbuffer/constraints';
import {
  InMemoryCoordinator,
  type ITaskEvent,
  type ScheduledTick,
  type SchedulerHost,
  type SchedulerPort,
  Task,
  TaskAbortedError,
  TaskManager,
} from '@taskbuffer/core';
import { describe, expect, it, vi } from 'vitest';

/** Fires ticks when told to, like a cron scheduler would at their time. */
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

function certificateRenewer(name: string, runs: string[]) {
  const gates: Array<() => void> = [];
  const task = new Task<undefined, [], { domain: string }>({
    name,
    data: { domain: 'example.com' },
    taskFunction: () =>
      new Promise<void>((resolve) => {
        runs.push(name);
        gates.push(resolve);
      }),
  });
  return { task, gates };
}

describe('TaskManager.stop with constraint groups and a coordinator', () => {
  it('runs the granted ticks under way to their end and hands back those still waiting on a constraint', async () => {
    const coordinator = new InMemoryCoordinator();
    const scheduler = new ManualScheduler();
    const a = new TaskManager({ scheduler, distributedCoordinator: coordinator, instanceId: 'a' });
    a.addConstraintGroup(
      new TaskConstraintGroup<{ domain: string }>({
        name: 'per-domain',
        maxConcurrent: 1,
        constraintKeyForExecution: (task) => task.data.domain,
      }),
    );
    const runs: string[] = [];
    const renewers = ['renew-1', 'renew-2', 'renew-3'].map((name) => certificateRenewer(name, runs));
    for (const { task } of renewers) a.addTask(task);
    const skipped: ITaskEvent[] = [];
    a.taskSubject.subscribe((event) => event.type === 'skipped' && skipped.push(event));
    await a.start();
    const tick = 60_000;
    const ticks = renewers.map(({ task }) => scheduler.fire(task.name, { scheduledTime: tick }));
    // One runs; two wait on the per-domain mutex.
    await vi.waitFor(() => expect([a.running, a.waiting]).toEqual([1, 2]));
    const stopping = a.stop();
    await vi.waitFor(() => expect(skipped).toHaveLength(2));
    expect(a.state).toBe('stopping');
    expect(coordinator.getOutcome('a:renew-2:60000')).toBe('cancelled');
    expect(coordinator.getOutcome('a:renew-3:60000')).toBe('cancelled');
    renewers[0]!.gates[0]!();
    await Promise.all([stopping, ...ticks]);
    expect(runs).toEqual(['renew-1']);
    expect(coordinator.getOutcome('a:renew-1:60000')).toBe('succeeded');

    // The handed-back ticks run on another instance.
    const schedulerB = new ManualScheduler();
    const b = new TaskManager({ scheduler: schedulerB, distributedCoordinator: coordinator, instanceId: 'b' });
    const runsOnB: string[] = [];
    for (const name of ['renew-2', 'renew-3']) {
      b.addTask(new Task({ name, taskFunction: async () => void runsOnB.push(name) }));
    }
    await b.start();
    await Promise.all(['renew-1', 'renew-2', 'renew-3'].map((name) => schedulerB.fire(name, { scheduledTime: tick })));
    expect(runsOnB.sort()).toEqual(['renew-2', 'renew-3']);
    expect(coordinator.getOutcome('b:renew-2:60000')).toBe('succeeded');
    await b.stop();
  });
});

describe('TaskManager.triggerTask with a signal', () => {
  it('takes a trigger waiting on a constraint out of line when its signal aborts', async () => {
    const manager = new TaskManager();
    const group = new TaskConstraintGroup({ name: 'mutex', maxConcurrent: 1, cooldownMs: 0, constraintKeyForExecution: () => 'one' });
    manager.addConstraintGroup(group);
    const runs: string[] = [];
    const first = certificateRenewer('first', runs);
    const queued = new Task({ name: 'queued', taskFunction: vi.fn(async () => 'ran') });
    manager.addTask(first.task);
    manager.addTask(queued);
    const running = manager.triggerTask(first.task);
    const controller = new AbortController();
    const waiting = manager.triggerTask(queued, undefined, { signal: controller.signal });
    expect(manager.waiting).toBe(1);
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(TaskAbortedError);
    expect(manager.waiting).toBe(0);
    first.gates[0]!();
    await running;
    await manager.onIdle();
    expect(queued.taskFunction).not.toHaveBeenCalled();
    // It held no slot: the key is free.
    expect(group.getSnapshot().keys).toEqual([]);
  });
});

describe('TaskManager.onIdle with constraint groups', () => {
  it('counts a trigger waiting for an asynchronous shouldExecute, and is idle once it is skipped', async () => {
    const manager = new TaskManager();
    let answer!: (verdict: boolean) => void;
    manager.addConstraintGroup(
      new TaskConstraintGroup({
        name: 'gate',
        maxConcurrent: 1,
        constraintKeyForExecution: () => 'one',
        shouldExecute: () => new Promise<boolean>((resolve) => (answer = resolve)),
      }),
    );
    const task = new Task({ name: 'gated', taskFunction: vi.fn(async () => 'ran') });
    manager.addTask(task);
    const trigger = manager.triggerTask(task);
    expect([manager.running, manager.waiting]).toEqual([0, 1]);
    const idle = manager.onIdle();
    answer(false);
    await idle;
    await expect(trigger).resolves.toBeUndefined();
    expect([manager.running, manager.waiting]).toEqual([0, 0]);
    expect(task.taskFunction).not.toHaveBeenCalled();
  });
});
