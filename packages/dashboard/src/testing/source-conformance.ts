import { Task, TaskManager } from '@taskbuffer/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DASHBOARD_PROTOCOL_VERSION,
  type DashboardRun,
  type DashboardSource,
  type DashboardSubscription,
  type DashboardUpdate,
} from '../protocol.js';

/** Options of {@link describeDashboardSourceConformance}. */
export interface DashboardSourceConformanceOptions {
  /**
   * Makes a source that shows `manager`: for a local source, the source of
   * that manager; for a relayed one, the merged source with the manager's
   * instance relayed into it. Called before every test.
   */
  create(manager: TaskManager): Promise<DashboardSource> | DashboardSource;
  /** Called after every test with what `create` returned. */
  destroy?(source: DashboardSource, manager: TaskManager): Promise<void> | void;
  /** How long a change may take to reach the source, in ms. @default 5000 */
  timeoutMs?: number;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

/**
 * The behaviour every dashboard source must show, as a vitest suite: run it
 * against each implementation (the local source, a source merging a cluster).
 */
export function describeDashboardSourceConformance(name: string, options: DashboardSourceConformanceOptions): void {
  const timeout = options.timeoutMs ?? 5000;

  describe(`${name} (dashboard source conformance)`, () => {
    let manager: TaskManager;
    let source: DashboardSource;
    const subscriptions: DashboardSubscription[] = [];

    /** Subscribes and collects every update. */
    const watch = () => {
      const updates: DashboardUpdate[] = [];
      const subscription = source.subscribe({ update: (update) => updates.push(update) });
      subscriptions.push(subscription);
      const runs = () => {
        const latest = new Map<string, DashboardRun>();
        for (const update of updates) for (const run of update.runs ?? []) latest.set(run.id, run);
        return [...latest.values()];
      };
      return { updates, subscription, runs };
    };

    beforeEach(async () => {
      manager = new TaskManager();
      source = await options.create(manager);
    });

    afterEach(async () => {
      for (const subscription of subscriptions.splice(0)) subscription.unsubscribe();
      await options.destroy?.(source, manager);
      await manager.stop();
    });

    it('answers a snapshot in the current protocol version with every task', async () => {
      manager.addTask(new Task({ name: 'alpha', labels: { tenantId: 'acme' }, taskFunction: () => 1 }));
      manager.addTask(new Task({ name: 'beta', taskFunction: () => 2 }));
      await vi.waitFor(
        async () => {
          const snapshot = await source.getSnapshot();
          expect(snapshot.protocol).toBe(DASHBOARD_PROTOCOL_VERSION);
          expect(typeof snapshot.time).toBe('number');
          expect(snapshot.tasks.map((task) => task.name).sort()).toEqual(['alpha', 'beta']);
          expect(snapshot.tasks.find((task) => task.name === 'alpha')!.labels).toEqual({ tenantId: 'acme' });
        },
        { timeout },
      );
    });

    it('delivers a run as updates: its events, the task metadata and a completed run', async () => {
      manager.addTask(new Task({ name: 'job', taskFunction: () => 'done' }));
      await source.getSnapshot();
      const watcher = watch();
      await manager.triggerTaskByName('job');
      await vi.waitFor(
        () => {
          const run = watcher.runs().find((entry) => entry.taskName === 'job');
          expect(run?.status).toBe('completed');
          expect(run!.startedAt).toBeTypeOf('number');
          expect(run!.endedAt!).toBeGreaterThanOrEqual(run!.startedAt!);
        },
        { timeout },
      );
      const events = watcher.updates.flatMap((update) => update.events).filter((event) => event.taskName === 'job');
      expect(events.map((event) => event.type)).toEqual(['started', 'completed']);
      const task = watcher.updates.flatMap((update) => update.tasks).filter((entry) => entry.name === 'job')
        .at(-1);
      expect(task).toMatchObject({ status: 'completed', runCount: 1 });
      for (const update of watcher.updates) expect(update.protocol).toBe(DASHBOARD_PROTOCOL_VERSION);
    });

    it('records a failed run with its error message', async () => {
      manager.addTask(
        new Task({
          name: 'flaky',
          taskFunction: () => {
            throw new Error('upstream timed out');
          },
        }),
      );
      await source.getSnapshot();
      const watcher = watch();
      await expect(manager.triggerTaskByName('flaky')).rejects.toThrow('upstream timed out');
      await vi.waitFor(
        () => expect(watcher.runs().find((run) => run.taskName === 'flaky')).toMatchObject({ status: 'failed', error: 'upstream timed out' }),
        { timeout },
      );
    });

    it('shows two overlapping runs of one task as two runs that overlap in time', async () => {
      const gate = deferred();
      manager.addTask(new Task({ name: 'overlap', taskFunction: () => gate.promise }));
      await source.getSnapshot();
      const watcher = watch();
      const first = manager.triggerTaskByName('overlap');
      const second = manager.triggerTaskByName('overlap');
      gate.resolve();
      await Promise.all([first, second]);
      await vi.waitFor(
        () => {
          const runs = watcher.runs().filter((run) => run.taskName === 'overlap' && run.status === 'completed');
          expect(runs).toHaveLength(2);
          const [a, b] = runs as [DashboardRun, DashboardRun];
          expect(new Set([a.id, b.id]).size).toBe(2);
          expect(Math.max(a.startedAt!, b.startedAt!)).toBeLessThanOrEqual(Math.min(a.endedAt!, b.endedAt!));
        },
        { timeout },
      );
    });

    it('keeps the run history in the snapshot, oldest first, and leaves it out on request', async () => {
      manager.addTask(new Task({ name: 'counted', taskFunction: () => 1 }));
      await source.getSnapshot();
      const watcher = watch();
      for (let index = 0; index < 3; index++) await manager.triggerTaskByName('counted');
      await vi.waitFor(() => expect(watcher.runs().filter((run) => run.status === 'completed')).toHaveLength(3), {
        timeout,
      });
      const snapshot = await source.getSnapshot();
      const runs = (snapshot.runs ?? []).filter((run) => run.taskName === 'counted');
      expect(runs).toHaveLength(3);
      expect(runs.map((run) => run.startedAt!)).toEqual([...runs.map((run) => run.startedAt!)].sort((a, b) => a - b));
      expect(snapshot.runsPerTask).toBeGreaterThanOrEqual(3);
      const light = await source.getSnapshot({ runs: false });
      expect(light.runs).toBeUndefined();
    });

    it('sends nothing more after unsubscribe, and each subscriber gets its own updates', async () => {
      manager.addTask(new Task({ name: 'watched', taskFunction: () => 1 }));
      await source.getSnapshot();
      const first = watch();
      const second = watch();
      await manager.triggerTaskByName('watched');
      await vi.waitFor(
        () => {
          expect(first.runs().some((run) => run.status === 'completed')).toBe(true);
          expect(second.runs().some((run) => run.status === 'completed')).toBe(true);
        },
        { timeout },
      );
      first.subscription.unsubscribe();
      const seen = first.updates.length;
      await manager.triggerTaskByName('watched');
      await vi.waitFor(() => expect(second.runs().filter((run) => run.status === 'completed')).toHaveLength(2), {
        timeout,
      });
      expect(first.updates).toHaveLength(seen);
    });

    it('starts a run on trigger, and refuses an unknown task with a TaskNotFoundError', async (context) => {
      if (source.trigger === undefined) {
        context.skip('this source cannot trigger');
        return;
      }
      manager.addTask(new Task({ name: 'on-demand', taskFunction: () => 1 }));
      await source.getSnapshot();
      const watcher = watch();
      await source.trigger('on-demand');
      await vi.waitFor(() => expect(watcher.runs().some((run) => run.taskName === 'on-demand' && run.status === 'completed')).toBe(true), {
        timeout,
      });
      let refusal: unknown;
      try {
        await source.trigger('no-such-task');
      } catch (error) {
        refusal = error;
      }
      expect((refusal as Error | undefined)?.name).toBe('TaskNotFoundError');
    });
  });
}
