import type { ITaskEvent, ITaskMetadata } from '@taskbuffer/core';
import { describe, expect, it, vi } from 'vitest';
import { EventCoalescer } from './event-coalescer.js';
import type { DashboardUpdate } from './protocol.js';

function metadata(name: string, runCount: number): ITaskMetadata {
  return { name, status: 'running', steps: [], currentProgress: 0, runCount, labels: {}, errorCount: 0, lastRun: new Date(5) };
}

function event(name: string, runCount: number, timestamp = runCount): ITaskEvent {
  return { type: 'started', task: metadata(name, runCount), timestamp };
}

/** A scheduler the test fires by hand. */
function manualScheduler() {
  const pending: Array<() => void> = [];
  return {
    pending,
    schedule: (callback: () => void) => {
      pending.push(callback);
      return () => {
        const index = pending.indexOf(callback);
        if (index !== -1) pending.splice(index, 1);
      };
    },
    fire() {
      for (const callback of pending.splice(0)) callback();
    },
  };
}

describe('EventCoalescer', () => {
  describe('push', () => {
    it('turns a burst into one update with the newest metadata per task and the newest events', () => {
      const scheduler = manualScheduler();
      const updates: DashboardUpdate[] = [];
      const coalescer = new EventCoalescer({ schedule: scheduler.schedule, maxEvents: 100, onFlush: (u) => updates.push(u), now: () => 99 });
      for (let index = 0; index < 1000; index++) coalescer.push(event(`task-${index % 10}`, index));
      expect(scheduler.pending).toHaveLength(1);
      expect(updates).toHaveLength(0);
      scheduler.fire();
      expect(updates).toHaveLength(1);
      const [update] = updates;
      expect(update!.time).toBe(99);
      expect(update!.tasks).toHaveLength(10);
      // Ordered by their last change; each carries its newest run count, with dates as epoch ms.
      expect(update!.tasks.map((task) => task.runCount)).toEqual([990, 991, 992, 993, 994, 995, 996, 997, 998, 999]);
      expect(update!.tasks[0]!.lastRun).toBe(5);
      expect(update!.events).toHaveLength(100);
      expect(update!.events[0]!.timestamp).toBe(900);
      expect(update!.events[99]!.timestamp).toBe(999);
      expect(update!.droppedEvents).toBe(900);
    });

    it('starts a new batch after a flush', () => {
      const scheduler = manualScheduler();
      const updates: DashboardUpdate[] = [];
      const coalescer = new EventCoalescer({ schedule: scheduler.schedule, onFlush: (u) => updates.push(u) });
      coalescer.push(event('a', 1));
      scheduler.fire();
      coalescer.push(event('b', 2));
      expect(coalescer.pending).toBe(true);
      scheduler.fire();
      expect(updates.map((update) => update.tasks.map((task) => task.name))).toEqual([['a'], ['b']]);
      expect(updates[1]!.droppedEvents).toBe(0);
    });

    it('keeps no events with maxEvents 0 but counts them', () => {
      const scheduler = manualScheduler();
      const updates: DashboardUpdate[] = [];
      const coalescer = new EventCoalescer({ schedule: scheduler.schedule, maxEvents: 0, onFlush: (u) => updates.push(u) });
      coalescer.push(event('a', 1));
      coalescer.push(event('a', 2));
      scheduler.fire();
      expect(updates[0]!.events).toEqual([]);
      expect(updates[0]!.droppedEvents).toBe(2);
      expect(updates[0]!.tasks.map((task) => task.runCount)).toEqual([2]);
    });

    it('flushes on a timer with a real scheduler', () => {
      vi.useFakeTimers();
      try {
        const updates: DashboardUpdate[] = [];
        const coalescer = new EventCoalescer({
          schedule: (callback) => {
            const timer = setTimeout(callback, 100);
            return () => clearTimeout(timer);
          },
          onFlush: (u) => updates.push(u),
        });
        coalescer.push(event('a', 1));
        vi.advanceTimersByTime(50);
        coalescer.push(event('a', 2));
        vi.advanceTimersByTime(49);
        expect(updates).toHaveLength(0);
        vi.advanceTimersByTime(1);
        expect(updates).toHaveLength(1);
        expect(updates[0]!.events).toHaveLength(2);
        expect(vi.getTimerCount()).toBe(0);
      } finally {
        vi.useRealTimers();
      }
    });
  });

  describe('flush', () => {
    it('sends what is pending at once and cancels the scheduled flush', () => {
      const scheduler = manualScheduler();
      const updates: DashboardUpdate[] = [];
      const coalescer = new EventCoalescer({ schedule: scheduler.schedule, onFlush: (u) => updates.push(u) });
      coalescer.flush();
      expect(updates).toHaveLength(0);
      coalescer.push(event('a', 1));
      coalescer.flush();
      expect(updates).toHaveLength(1);
      expect(scheduler.pending).toHaveLength(0);
      expect(coalescer.pending).toBe(false);
    });
  });

  describe('clear', () => {
    it('drops what is pending and cancels the flush', () => {
      const scheduler = manualScheduler();
      const onFlush = vi.fn();
      const coalescer = new EventCoalescer({ schedule: scheduler.schedule, onFlush });
      coalescer.push(event('a', 1));
      coalescer.clear();
      expect(scheduler.pending).toHaveLength(0);
      coalescer.flush();
      expect(onFlush).not.toHaveBeenCalled();
    });
  });

  describe('constructor', () => {
    it('rejects a bad maxEvents with a TypeError naming it', () => {
      expect(() => new EventCoalescer({ schedule: () => () => undefined, onFlush: () => undefined, maxEvents: -1 })).toThrow(
        new TypeError('Expected `maxEvents` to be a non-negative integer, got `-1` (number)'),
      );
    });
  });
});
