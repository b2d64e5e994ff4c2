import { describe, expect, it, vi } from 'vitest';
import { TaskAbortedError } from './errors.js';
import { TaskOnce } from './task-once.js';

describe('TaskOnce', () => {
  describe('trigger', () => {
    it('runs once, whatever the number of triggers (spec example)', async () => {
      const setupDatabase = vi.fn(async () => 'initialized');
      const initTask = new TaskOnce({ name: 'Init', taskFunction: setupDatabase });
      expect(initTask.hasTriggered).toBe(false);
      await expect(initTask.trigger()).resolves.toBe('initialized');
      await expect(initTask.trigger()).resolves.toBe('initialized');
      await initTask.trigger();
      expect(initTask.hasTriggered).toBe(true);
      expect(setupDatabase).toHaveBeenCalledTimes(1);
    });

    it('runs once for concurrent first triggers', async () => {
      let release!: () => void;
      const taskFunction = vi.fn(() => new Promise<string>((resolve) => (release = () => resolve('done'))));
      const task = new TaskOnce({ taskFunction });
      const runs = [task.trigger(), task.trigger(), task.trigger()];
      release();
      await expect(Promise.all(runs)).resolves.toEqual(['done', 'done', 'done']);
      expect(taskFunction).toHaveBeenCalledTimes(1);
    });

    it('settles later triggers like a failed first run', async () => {
      const task = new TaskOnce({
        taskFunction: async () => {
          throw new Error('init failed');
        },
      });
      await expect(task.trigger()).rejects.toThrow('init failed');
      await expect(task.trigger()).rejects.toThrow('init failed');
      expect(task.runCount).toBe(1);
    });

    it('lets the first caller abort without aborting the run the others share', async () => {
      let release!: () => void;
      const taskFunction = vi.fn(() => new Promise<string>((resolve) => (release = () => resolve('done'))));
      const task = new TaskOnce({ name: 'init', taskFunction });
      const controller = new AbortController();
      const first = task.trigger(undefined, { signal: controller.signal });
      const second = task.trigger();
      controller.abort();
      await expect(first).rejects.toBeInstanceOf(TaskAbortedError);
      release();
      await expect(second).resolves.toBe('done');
      await expect(task.trigger()).resolves.toBe('done');
      expect(taskFunction).toHaveBeenCalledTimes(1);
    });

    it('calls onFinished for triggers that do not run', async () => {
      const task = new TaskOnce({ taskFunction: async () => 1 });
      await task.trigger();
      const onFinished = vi.fn();
      await task.trigger(undefined, { onFinished });
      expect(onFinished).toHaveBeenCalledTimes(1);
    });
  });
});
