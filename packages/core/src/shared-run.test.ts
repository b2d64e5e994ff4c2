import { describe, expect, it, vi } from 'vitest';
import { TaskAbortedError } from './errors.js';
import { TaskDebounced } from './task-debounced.js';
import { TaskOnce } from './task-once.js';
import { Task } from './task.js';
import type { ITaskRunContext } from './types.js';

// Real time: each run would take about a second; an aborted caller must be
// released well before that, while the run goes on for the others.
const RUN_MS = 1_000;
const RELEASED_WITHIN_MS = 100;

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((res) => (resolve = res));
  return { promise, resolve };
}

/** A task function that takes about RUN_MS, and ends early when its signal aborts. */
function slowRun() {
  const started = deferred<AbortSignal>();
  const taskFunction = vi.fn(async (input: string, _setup: unknown, context: ITaskRunContext) => {
    const signal = context.signal;
    started.resolve(signal);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, RUN_MS);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    return input;
  });
  return { started: started.promise, taskFunction };
}

/** Aborts `controller` and resolves with how long `promise` took to reject after that. */
async function msUntilRejected(promise: Promise<unknown>, controller: AbortController): Promise<number> {
  const outcome = promise.then(
    () => 'resolved',
    (error: unknown) => error,
  );
  const abortedAt = performance.now();
  controller.abort();
  const error = await outcome;
  const elapsed = performance.now() - abortedAt;
  expect(error).toBeInstanceOf(TaskAbortedError);
  return elapsed;
}

describe('a run shared by several callers', () => {
  describe('buffered Task', () => {
    it('releases an aborted caller of the running call at once; the others keep the run', async () => {
      const firstRun = deferred();
      const second = slowRun();
      const task = new Task({
        name: 'buffered',
        buffered: true,
        bufferMax: 1,
        taskFunction: async (input: string, setup: unknown, context: ITaskRunContext) =>
          input === 'a' ? (await firstRun.promise, input) : second.taskFunction(input, setup, context),
      });
      const controller = new AbortController();
      const onFinished = vi.fn();
      const running = task.trigger('a');
      // 'b' waits; 'c' joins its call (the waiting line is full), so the call is shared.
      const leaving = task.trigger('b', { signal: controller.signal, onFinished });
      const staying = task.trigger('c');
      firstRun.resolve();
      const runSignal = await second.started;

      expect(await msUntilRejected(leaving, controller)).toBeLessThan(RELEASED_WITHIN_MS);
      expect(runSignal.aborted).toBe(false);
      // Its place is held until the run really ends.
      expect(onFinished).not.toHaveBeenCalled();
      await expect(running).resolves.toBe('a');
      await expect(staying).resolves.toBe('c');
      expect(onFinished).toHaveBeenCalledTimes(1);
      expect(task.runCount).toBe(2);
      expect(task.errorCount).toBe(0);
    });

    it('aborts the run of a started call once its last caller has left', async () => {
      const firstRun = deferred();
      const second = slowRun();
      const task = new Task({
        name: 'buffered',
        buffered: true,
        bufferMax: 1,
        taskFunction: async (input: string, setup: unknown, context: ITaskRunContext) =>
          input === 'a' ? (await firstRun.promise, input) : second.taskFunction(input, setup, context),
      });
      const controller = new AbortController();
      const running = task.trigger('a');
      const waiting = task.trigger('b', { signal: controller.signal });
      firstRun.resolve();
      const runSignal = await second.started;

      expect(await msUntilRejected(waiting, controller)).toBeLessThan(RELEASED_WITHIN_MS);
      expect(runSignal.aborted).toBe(true);
      await expect(running).resolves.toBe('a');
    });
  });

  describe('TaskDebounced', () => {
    it('releases an aborted caller of the running period at once; the others keep the run', async () => {
      const { started, taskFunction } = slowRun();
      const task = new TaskDebounced({ name: 'search', debounceTimeInMillis: 10, taskFunction });
      const controller = new AbortController();
      const onFinished = vi.fn();
      const leaving = task.trigger('hel', { signal: controller.signal, onFinished });
      const staying = task.trigger('hello');
      const runSignal = await started;

      expect(await msUntilRejected(leaving, controller)).toBeLessThan(RELEASED_WITHIN_MS);
      expect(runSignal.aborted).toBe(false);
      expect(onFinished).not.toHaveBeenCalled();
      await expect(staying).resolves.toBe('hello');
      expect(onFinished).toHaveBeenCalledTimes(1);
      expect(taskFunction).toHaveBeenCalledTimes(1);
    });

    it('aborts the run once every caller of the period has left', async () => {
      const { started, taskFunction } = slowRun();
      const task = new TaskDebounced({ name: 'search', debounceTimeInMillis: 10, taskFunction });
      const controller = new AbortController();
      const only = task.trigger('hello', { signal: controller.signal });
      const runSignal = await started;

      expect(await msUntilRejected(only, controller)).toBeLessThan(RELEASED_WITHIN_MS);
      expect(runSignal.aborted).toBe(true);
    });
  });

  describe('TaskOnce', () => {
    it('releases an aborted caller at once and keeps the run for the others and for later triggers', async () => {
      const { started, taskFunction } = slowRun();
      const task = new TaskOnce({ name: 'init', taskFunction });
      const firstController = new AbortController();
      const laterController = new AbortController();
      const first = task.trigger('x', { signal: firstController.signal });
      const runSignal = await started;
      const later = task.trigger('y', { signal: laterController.signal });
      const staying = task.trigger('z');

      expect(await msUntilRejected(first, firstController)).toBeLessThan(RELEASED_WITHIN_MS);
      expect(await msUntilRejected(later, laterController)).toBeLessThan(RELEASED_WITHIN_MS);
      expect(runSignal.aborted).toBe(false);
      await expect(staying).resolves.toBe('x');
      await expect(task.trigger('w')).resolves.toBe('x');
      expect(taskFunction).toHaveBeenCalledTimes(1);
    });
  });
});
