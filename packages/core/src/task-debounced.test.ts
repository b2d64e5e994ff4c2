import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TaskAbortedError } from './errors.js';
import { TaskDebounced } from './task-debounced.js';

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('TaskDebounced', () => {
  describe('trigger', () => {
    it('runs once with the last input after the quiet period (spec example)', async () => {
      const searchAPI = vi.fn(async (query: string) => `results for ${query}`);
      const searchTask = new TaskDebounced({
        name: 'Search',
        debounceTimeInMillis: 300,
        taskFunction: async (query: string) => searchAPI(query),
      });
      const calls = [searchTask.trigger('h'), searchTask.trigger('he'), searchTask.trigger('hel'), searchTask.trigger('hello')];
      await vi.advanceTimersByTimeAsync(299);
      expect(searchAPI).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(1);
      await expect(Promise.all(calls)).resolves.toEqual(Array(4).fill('results for hello'));
      expect(searchAPI).toHaveBeenCalledTimes(1);
      expect(searchAPI).toHaveBeenCalledWith('hello');
    });

    it('restarts the quiet period with every trigger', async () => {
      const taskFunction = vi.fn(async (value: number) => value);
      const task = new TaskDebounced({ debounceTimeInMillis: 100, taskFunction });
      const first = task.trigger(1);
      await vi.advanceTimersByTimeAsync(80);
      const second = task.trigger(2);
      await vi.advanceTimersByTimeAsync(80);
      expect(taskFunction).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(20);
      await expect(first).resolves.toBe(2);
      await expect(second).resolves.toBe(2);
      expect(taskFunction).toHaveBeenCalledTimes(1);
    });

    it('runs again for triggers after a quiet period ended', async () => {
      const taskFunction = vi.fn(async (value: number) => value);
      const task = new TaskDebounced({ debounceTimeInMillis: 50, taskFunction });
      const first = task.trigger(1);
      await vi.advanceTimersByTimeAsync(50);
      const second = task.trigger(2);
      await vi.advanceTimersByTimeAsync(50);
      await expect(first).resolves.toBe(1);
      await expect(second).resolves.toBe(2);
      expect(taskFunction).toHaveBeenCalledTimes(2);
    });

    it('rejects every trigger of the period when the run fails', async () => {
      const task = new TaskDebounced({
        debounceTimeInMillis: 10,
        taskFunction: async () => {
          throw new Error('search failed');
        },
      });
      const calls = [task.trigger('a'), task.trigger('b')];
      const assertions = calls.map((call) => expect(call).rejects.toThrow('search failed'));
      await vi.advanceTimersByTimeAsync(10);
      await Promise.all(assertions);
    });
  });

  describe('trigger with a signal', () => {
    it('drops an aborted caller and runs with the newest remaining input', async () => {
      const taskFunction = vi.fn(async (query: string) => `results for ${query}`);
      const task = new TaskDebounced({ name: 'Search', debounceTimeInMillis: 100, taskFunction });
      const controller = new AbortController();
      const onFinished = vi.fn();
      const kept = task.trigger('hel');
      const aborted = task.trigger('hello', { signal: controller.signal, onFinished });
      controller.abort();
      await expect(aborted).rejects.toBeInstanceOf(TaskAbortedError);
      expect(onFinished).toHaveBeenCalledTimes(1);
      await vi.advanceTimersByTimeAsync(100);
      await expect(kept).resolves.toBe('results for hel');
      expect(taskFunction).toHaveBeenCalledTimes(1);
    });

    it('cancels the run when every caller of the period aborted', async () => {
      const taskFunction = vi.fn(async () => 'ran');
      const task = new TaskDebounced({ debounceTimeInMillis: 100, taskFunction });
      const controller = new AbortController();
      const run = task.trigger('x', { signal: controller.signal });
      controller.abort();
      await expect(run).rejects.toBeInstanceOf(TaskAbortedError);
      expect(vi.getTimerCount()).toBe(0);
      await vi.advanceTimersByTimeAsync(500);
      expect(taskFunction).not.toHaveBeenCalled();
    });

    it('rejects an already aborted trigger at once', async () => {
      const task = new TaskDebounced({ debounceTimeInMillis: 100, taskFunction: async () => 'ran' });
      await expect(task.trigger('x', { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(TaskAbortedError);
      expect(task.pending).toBe(false);
    });
  });

  it('rejects a bad debounceTimeInMillis', () => {
    expect(() => new TaskDebounced({ debounceTimeInMillis: -1, taskFunction: async () => {} })).toThrow(
      'Expected `debounceTimeInMillis` to be a non-negative finite number, got `-1` (number)',
    );
  });
});
