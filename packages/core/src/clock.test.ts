import { afterEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from './clock.js';
import { TaskTimeoutError } from './errors.js';
import { TaskDebounced } from './task-debounced.js';
import { Task } from './task.js';

const MAX_TIMER_DELAY = 2 ** 31 - 1;
const LONG = MAX_TIMER_DELAY * 2 + 5_000;

afterEach(() => {
  vi.useRealTimers();
});

describe('systemClock', () => {
  describe('setTimeout', () => {
    it('fires a delay above 2³¹−1 ms at its time, not after 1 ms', async () => {
      vi.useFakeTimers();
      const callback = vi.fn();
      systemClock.setTimeout(callback, LONG);
      await vi.advanceTimersByTimeAsync(1_000);
      expect(callback).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(MAX_TIMER_DELAY);
      expect(callback).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(LONG - MAX_TIMER_DELAY - 1_000 - 1);
      expect(callback).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(1);
      expect(callback).toHaveBeenCalledTimes(1);
      await vi.advanceTimersByTimeAsync(LONG);
      expect(callback).toHaveBeenCalledTimes(1);
    });

    it('keeps delays up to 2³¹−1 ms on one host timer', async () => {
      vi.useFakeTimers();
      const callback = vi.fn();
      systemClock.setTimeout(callback, MAX_TIMER_DELAY);
      await vi.advanceTimersByTimeAsync(MAX_TIMER_DELAY - 1);
      expect(callback).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(1);
      expect(callback).toHaveBeenCalledTimes(1);
    });

    it('cancels a long delay, before and after its first stretch', async () => {
      vi.useFakeTimers();
      const early = vi.fn();
      const late = vi.fn();
      systemClock.clearTimeout(systemClock.setTimeout(early, LONG));
      const handle = systemClock.setTimeout(late, LONG);
      await vi.advanceTimersByTimeAsync(MAX_TIMER_DELAY + 10);
      systemClock.clearTimeout(handle);
      await vi.advanceTimersByTimeAsync(LONG);
      expect(early).not.toHaveBeenCalled();
      expect(late).not.toHaveBeenCalled();
      expect(vi.getTimerCount()).toBe(0);
    });

    it('sets a long delay on real timers without a TimeoutOverflowWarning', async () => {
      const warnings: Error[] = [];
      const onWarning = (warning: Error) => warnings.push(warning);
      process.on('warning', onWarning);
      const callback = vi.fn();
      try {
        const handle = systemClock.setTimeout(callback, LONG, { unref: true });
        // A host timer given this delay fires after 1 ms and warns on the next turn.
        await new Promise((resolve) => setTimeout(resolve, 30));
        systemClock.clearTimeout(handle);
      } finally {
        process.off('warning', onWarning);
      }
      expect(callback).not.toHaveBeenCalled();
      expect(warnings.map((warning) => warning.name)).not.toContain('TimeoutOverflowWarning');
    });
  });

  describe('durations of tasks above 2³¹−1 ms', () => {
    it('does not time out a run early', async () => {
      vi.useFakeTimers();
      let release!: (value: string) => void;
      const task = new Task({
        timeout: LONG,
        taskFunction: () => new Promise<string>((resolve) => (release = resolve)),
      });
      const run = task.trigger();
      const settled = vi.fn();
      run.then(settled, settled);
      await vi.advanceTimersByTimeAsync(MAX_TIMER_DELAY + 1_000);
      expect(settled).not.toHaveBeenCalled();
      release('done');
      await expect(run).resolves.toBe('done');
    });

    it('times out a run at its long timeout', async () => {
      vi.useFakeTimers();
      const task = new Task({ timeout: LONG, taskFunction: () => new Promise(() => {}) });
      const run = task.trigger();
      const assertion = expect(run).rejects.toBeInstanceOf(TaskTimeoutError);
      await vi.advanceTimersByTimeAsync(LONG);
      await assertion;
    });

    it('waits out a long retry backoff', async () => {
      vi.useFakeTimers();
      const taskFunction = vi.fn(async (_input: unknown, _setup: unknown, { attempt }: { attempt: number }) => {
        if (attempt === 0) throw new Error('first attempt fails');
        return 'retried';
      });
      const task = new Task({ retry: { retries: 1, backoffMs: LONG }, taskFunction });
      const run = task.trigger();
      await vi.advanceTimersByTimeAsync(MAX_TIMER_DELAY + 1_000);
      expect(taskFunction).toHaveBeenCalledTimes(1);
      await vi.advanceTimersByTimeAsync(LONG);
      await expect(run).resolves.toBe('retried');
      expect(taskFunction).toHaveBeenCalledTimes(2);
    });

    it('waits out a long debounce period', async () => {
      vi.useFakeTimers();
      const taskFunction = vi.fn(async (query: string) => query);
      const task = new TaskDebounced({ debounceTimeInMillis: LONG, taskFunction });
      const run = task.trigger('hello');
      await vi.advanceTimersByTimeAsync(MAX_TIMER_DELAY + 1_000);
      expect(taskFunction).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(LONG);
      await expect(run).resolves.toBe('hello');
      expect(taskFunction).toHaveBeenCalledTimes(1);
    });
  });
});
