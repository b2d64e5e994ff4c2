import { describe, expect, it } from 'vitest';
import { DashboardState, matchesLabel, parseLabelFilter } from './dashboard-state.js';
import type { DashboardSnapshot, DashboardTask, DashboardUpdate } from './protocol.js';

function task(name: string, overrides: Partial<DashboardTask> = {}): DashboardTask {
  return { name, status: 'idle', steps: [], currentProgress: 0, runCount: 0, labels: {}, errorCount: 0, ...overrides };
}

function snapshot(tasks: DashboardTask[], time = 1000): DashboardSnapshot {
  return { protocol: 1, time, tasks, scheduled: [], nextRuns: [], constraintGroups: [], actions: {} };
}

function update(tasks: DashboardTask[], events: DashboardUpdate['events'] = [], droppedEvents = 0): DashboardUpdate {
  return { protocol: 1, time: 2000, tasks, events, droppedEvents };
}

describe('parseLabelFilter', () => {
  it('reads key=value, a bare key, and nothing', () => {
    expect(parseLabelFilter('tenantId=acme')).toEqual({ key: 'tenantId', value: 'acme' });
    expect(parseLabelFilter(' tenantId ')).toEqual({ key: 'tenantId' });
    expect(parseLabelFilter('a=b=c')).toEqual({ key: 'a', value: 'b=c' });
    expect(parseLabelFilter('')).toBeUndefined();
    expect(parseLabelFilter(undefined)).toBeUndefined();
  });
});

describe('matchesLabel', () => {
  it('matches by key and value, by key alone, or everything without a filter', () => {
    const acme = task('a', { labels: { tenantId: 'acme' } });
    expect(matchesLabel(acme, { key: 'tenantId', value: 'acme' })).toBe(true);
    expect(matchesLabel(acme, { key: 'tenantId', value: 'globex' })).toBe(false);
    expect(matchesLabel(acme, { key: 'tenantId' })).toBe(true);
    expect(matchesLabel(acme, { key: 'region' })).toBe(false);
    expect(matchesLabel(acme, undefined)).toBe(true);
    // Inherited properties are not labels.
    expect(matchesLabel(acme, { key: 'toString' })).toBe(false);
  });
});

describe('DashboardState', () => {
  describe('applySnapshot', () => {
    it('keeps the object of an unchanged task, replaces changed ones and drops removed ones', () => {
      const state = new DashboardState();
      state.applySnapshot(snapshot([task('a'), task('b'), task('c')]));
      const [a, b] = state.tasks;
      state.applySnapshot(snapshot([task('a'), task('b', { status: 'running' })]));
      expect(state.tasks.map((entry) => entry.name)).toEqual(['a', 'b']);
      expect(state.tasks[0]).toBe(a);
      expect(state.tasks[1]).not.toBe(b);
      expect(state.tasks[1]!.status).toBe('running');
      expect(state.getTask('c')).toBeUndefined();
    });

    it('sees a changed step or label as a change', () => {
      const state = new DashboardState();
      const steps = [{ name: 's', description: '', percentage: 100, status: 'pending' as const }];
      state.applySnapshot(snapshot([task('a', { steps, labels: { x: '1' } })]));
      const before = state.tasks[0];
      state.applySnapshot(snapshot([task('a', { steps: [{ ...steps[0]!, status: 'active' }], labels: { x: '1' } })]));
      expect(state.tasks[0]).not.toBe(before);
      const afterStep = state.tasks[0];
      state.applySnapshot(snapshot([task('a', { steps: [{ ...steps[0]!, status: 'active' }], labels: { x: '2' } })]));
      expect(state.tasks[0]).not.toBe(afterStep);
    });
  });

  describe('applyUpdate', () => {
    it('replaces tasks in place, appends new ones and adds events to the history', () => {
      const state = new DashboardState(3);
      state.applySnapshot(snapshot([task('a'), task('b')]));
      const version = state.version;
      state.applyUpdate(
        update(
          [task('b', { status: 'running' }), task('z')],
          [
            { type: 'started', taskName: 'b', timestamp: 1 },
            { type: 'started', taskName: 'z', timestamp: 2 },
          ],
          5,
        ),
      );
      expect(state.version).toBeGreaterThan(version);
      expect(state.tasks.map((entry) => `${entry.name}:${entry.status}`)).toEqual(['a:idle', 'b:running', 'z:idle']);
      expect(state.history.map((entry) => entry.timestamp)).toEqual([1, 2]);
      expect(state.droppedEvents).toBe(5);
      state.applyUpdate(
        update([], [
          { type: 'completed', taskName: 'b', timestamp: 3 },
          { type: 'completed', taskName: 'z', timestamp: 4 },
        ]),
      );
      expect(state.history.map((entry) => entry.timestamp)).toEqual([2, 3, 4]);
    });

    it('takes constraint groups with their time when the update has them', () => {
      const state = new DashboardState();
      const groups = [{ name: 'g', maxConcurrent: 1, cooldownMs: 0, keys: [] }];
      state.applyUpdate({ ...update([]), constraintGroups: groups });
      expect(state.constraintGroups).toBe(groups);
      expect(state.constraintGroupsTime).toBe(2000);
      state.applyUpdate(update([]));
      expect(state.constraintGroups).toBe(groups);
    });
  });

  describe('historySize', () => {
    it('trims the history when it shrinks', () => {
      const state = new DashboardState(10);
      state.applyUpdate(update([], [1, 2, 3, 4].map((timestamp) => ({ type: 'started' as const, taskName: 'a', timestamp }))));
      state.historySize = 2;
      expect(state.history.map((entry) => entry.timestamp)).toEqual([3, 4]);
    });
  });

  describe('labelPairs', () => {
    it('lists every label pair once, sorted', () => {
      const state = new DashboardState();
      state.applySnapshot(
        snapshot([
          task('a', { labels: { tenantId: 'globex' } }),
          task('b', { labels: { tenantId: 'acme', kind: 'sync' } }),
          task('c', { labels: { tenantId: 'acme' } }),
        ]),
      );
      expect(state.labelPairs()).toEqual(['kind=sync', 'tenantId=acme', 'tenantId=globex']);
    });
  });

  describe('canTrigger', () => {
    it('allows a task of a single manager whenever the page may trigger', () => {
      const state = new DashboardState();
      state.applySnapshot(snapshot([task('a')]));
      expect(state.canTrigger(state.getTask('a')!)).toBe(false);
      state.applySnapshot({ ...snapshot([task('a')]), actions: { trigger: 't' } });
      expect(state.canTrigger(state.getTask('a')!)).toBe(true);
    });

    it('in a cluster, allows only tasks that a live instance taking triggers has', () => {
      const state = new DashboardState();
      state.applySnapshot({
        ...snapshot([task('on-live', { instances: ['a'] }), task('on-gone', { instances: ['b'] }), task('no-triggers', { instances: ['c'] })]),
        actions: { trigger: 't' },
        instances: [
          { id: 'a', status: 'live', lastSeen: 1, triggers: true },
          { id: 'b', status: 'gone', lastSeen: 1, triggers: true },
          { id: 'c', status: 'live', lastSeen: 1, triggers: false },
        ],
      });
      expect(state.tasks.filter((entry) => state.canTrigger(entry)).map((entry) => entry.name)).toEqual(['on-live']);
      expect(state.instanceIds()).toEqual(['a', 'b', 'c']);
    });
  });

  describe('reset', () => {
    it('forgets tasks, history and groups', () => {
      const state = new DashboardState();
      state.applySnapshot({ ...snapshot([task('a')]), actions: { trigger: 't' } });
      state.applyUpdate(update([], [{ type: 'started', taskName: 'a', timestamp: 1 }], 1));
      state.reset();
      expect(state.tasks).toEqual([]);
      expect(state.history).toEqual([]);
      expect(state.droppedEvents).toBe(0);
      expect(state.actions).toEqual({});
    });
  });
});
