import { describe, expect, it } from 'vitest';
import { ClusterView, type ViewBatch, mergeConstraintGroups, mergeTask } from './cluster-view.js';
import type { RelayedTask } from './dashboard-types.js';
import type { PresenceRecord } from './relay-format.js';

function task(name: string, fields: Partial<RelayedTask> = {}): RelayedTask {
  return { name, status: 'idle', steps: [], currentProgress: 0, runCount: 0, labels: {}, errorCount: 0, ...fields };
}

function presence(id: string, tasks: RelayedTask[], fields: Partial<PresenceRecord> = {}): PresenceRecord {
  return {
    v: 1,
    id,
    time: 1000,
    heartbeatMs: 1000,
    timeoutMs: 5000,
    triggers: false,
    tasks,
    scheduled: [],
    nextRuns: [],
    constraintGroups: [],
    ...fields,
  };
}

function batch(fields: Partial<ViewBatch> = {}): ViewBatch {
  return { time: 2000, tasks: [], events: [], droppedEvents: 0, runs: [], ...fields };
}

const options = { runsPerTask: 3, maxRuns: 5, forgetAfterMs: 60_000, maxEventsPerUpdate: 4 };

describe('mergeTask', () => {
  it('adds up counts, keeps the latest run and error, and lists the instances', () => {
    const merged = mergeTask([
      { instanceId: 'b', task: task('job', { runCount: 2, errorCount: 1, lastRun: 10, averageDuration: 10, lastError: 'old' }) },
      { instanceId: 'a', task: task('job', { runCount: 6, lastRun: 30, averageDuration: 30, status: 'completed' }) },
    ]);
    expect(merged).toMatchObject({ runCount: 8, errorCount: 1, lastRun: 30, status: 'completed', lastError: 'old' });
    expect(merged.averageDuration).toBe(25);
    expect(merged.instances).toEqual(['a', 'b']);
  });

  it('shows a running copy as running', () => {
    const merged = mergeTask([
      { instanceId: 'a', task: task('job', { lastRun: 30, status: 'completed' }) },
      { instanceId: 'b', task: task('job', { lastRun: 10, status: 'running', currentProgress: 40 }) },
    ]);
    expect(merged).toMatchObject({ status: 'running', currentProgress: 40, lastRun: 30 });
  });
});

describe('mergeConstraintGroups', () => {
  it('adds up running and queued per key and keeps the longest cooldown', () => {
    const group = (running: number, cooldown: number) => ({
      name: 'per-domain',
      maxConcurrent: 1,
      cooldownMs: 100,
      keys: [{ key: 'acme', running, queued: 1, cooldownRemainingMs: cooldown }],
    });
    expect(mergeConstraintGroups([[group(1, 0)], [group(0, 80)]])).toEqual([
      { name: 'per-domain', maxConcurrent: 1, cooldownMs: 100, keys: [{ key: 'acme', running: 1, queued: 2, cooldownRemainingMs: 80 }] },
    ]);
  });
});

describe('ClusterView', () => {
  describe('applyPresence', () => {
    it('lists a task of several instances once, with both instances', () => {
      const view = new ClusterView(options);
      view.applyPresence(presence('a', [task('job', { runCount: 1 })]), 0);
      view.applyPresence(presence('b', [task('job', { runCount: 2 }), task('only-b')]), 0);
      const snapshot = view.snapshot(0, { nextRunsLimit: 10, runs: true, runsPerTask: 3 });
      expect(snapshot.tasks.map((entry) => [entry.name, entry.runCount, entry.instances])).toEqual([
        ['job', 3, ['a', 'b']],
        ['only-b', 0, ['b']],
      ]);
      expect(snapshot.instances.map((instance) => [instance.id, instance.status])).toEqual([
        ['a', 'live'],
        ['b', 'live'],
      ]);
    });

    it('drops a task the instance no longer has, unless a newer batch shows it', () => {
      const view = new ClusterView(options);
      view.applyPresence(presence('a', [task('gone'), task('kept')]), 0);
      view.applyBatch('a', batch({ time: 5000, tasks: [task('kept', { runCount: 1 })] }), 0);
      view.applyPresence(presence('a', [], { time: 3000 }), 0);
      expect(view.snapshot(0, { nextRunsLimit: 10, runs: false, runsPerTask: 3 }).tasks.map((entry) => entry.name)).toEqual(['kept']);
    });
  });

  describe('markGone and forgetGone', () => {
    it('lists a gone instance as gone with its tasks, then forgets it', () => {
      const view = new ClusterView(options);
      view.applyPresence(presence('a', [task('job')], { triggers: true }), 0);
      view.takeUpdate(0);
      view.markGone('a', 1000);
      const update = view.takeUpdate(1000)!;
      expect(update.instances).toEqual([{ id: 'a', status: 'gone', lastSeen: 0, triggers: true }]);
      expect(update.tasks.map((entry) => entry.name)).toEqual(['job']);
      view.forgetGone(1000 + options.forgetAfterMs);
      const snapshot = view.snapshot(0, { nextRunsLimit: 10, runs: false, runsPerTask: 3 });
      expect(snapshot.instances).toEqual([]);
      expect(snapshot.tasks).toEqual([]);
    });
  });

  describe('applyBatch', () => {
    it('tags events and runs with the instance and keeps the newest events of an update', () => {
      const view = new ClusterView(options);
      const events = Array.from({ length: 6 }, (_, index) => ({ type: 'started' as const, taskName: 'job', timestamp: index }));
      view.applyBatch('a', batch({ events, droppedEvents: 1, runs: [{ id: 'r1', taskName: 'job', status: 'running' }] }), 0);
      const update = view.takeUpdate(0)!;
      expect(update.events.map((event) => event.timestamp)).toEqual([2, 3, 4, 5]);
      expect(update.events.every((event) => event.instanceId === 'a')).toBe(true);
      expect(update.droppedEvents).toBe(3);
      expect(update.runs).toEqual([{ id: 'r1', taskName: 'job', status: 'running', instanceId: 'a' }]);
      // An instance known only from the stream is listed as gone until its presence shows.
      expect(update.instances).toEqual([{ id: 'a', status: 'gone', lastSeen: 0, triggers: false }]);
      expect(view.takeUpdate(0)).toBeUndefined();
    });

    it('updates a run in place and keeps at most runsPerTask per task and maxRuns in all', () => {
      const view = new ClusterView(options);
      const run = (id: string, taskName: string, startedAt: number) => ({ id, taskName, status: 'completed' as const, startedAt });
      view.applyBatch('a', batch({ runs: [run('1', 'x', 1), run('2', 'x', 2), run('3', 'x', 3), run('4', 'x', 4)] }), 0);
      view.applyBatch('a', batch({ runs: [{ ...run('4', 'x', 4), status: 'failed' }] }), 0);
      let runs = view.snapshot(0, { nextRunsLimit: 10, runs: true, runsPerTask: 3 }).runs!;
      expect(runs.map((entry) => [entry.id, entry.status])).toEqual([
        ['2', 'completed'],
        ['3', 'completed'],
        ['4', 'failed'],
      ]);
      view.applyBatch('b', batch({ runs: [run('5', 'y', 0), run('6', 'y', 5), run('7', 'y', 6)] }), 0);
      runs = view.snapshot(0, { nextRunsLimit: 10, runs: true, runsPerTask: 3 }).runs!;
      expect(runs).toHaveLength(5);
      expect(runs.map((entry) => entry.id)).toEqual(['3', '4', '5', '6', '7']);
    });
  });
});
