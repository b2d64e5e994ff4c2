import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { addAbortListener, removeAbortListener } from './abort-listeners.js';
import { TaskAbortedError } from './errors.js';
import { TaskDebounced } from './task-debounced.js';
import { TaskOnce } from './task-once.js';
import { Task } from './task.js';

const CONCURRENT = 16_384;

let warnings: Error[] = [];
const onWarning = (warning: Error) => warnings.push(warning);

beforeEach(() => {
  warnings = [];
  process.on('warning', onWarning);
});

afterEach(() => {
  process.off('warning', onWarning);
  vi.useRealTimers();
});

function gate() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

const abortListeners = (signal: AbortSignal) => getEventListeners(signal, 'abort').length;

/** Warnings are emitted on the next turn of the event loop. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

// 16k triggers (and 16k errors on abort) take well under a second alone; the generous
// timeout is for a machine busy with other work.
describe('many concurrent triggers sharing one AbortSignal', { timeout: 60_000 }, () => {
  it('Task: one listener on the signal, however many triggers; abort rejects them all', async () => {
    const { promise } = gate();
    const task = new Task({ name: 'shared-signal', taskFunction: () => promise });
    const controller = new AbortController();
    const runs: Promise<unknown>[] = [];
    for (let i = 0; i < 1_000; i++) runs.push(task.trigger(i, { signal: controller.signal }));
    expect(abortListeners(controller.signal)).toBe(1);
    for (let i = 1_000; i < CONCURRENT; i++) runs.push(task.trigger(i, { signal: controller.signal }));
    expect(abortListeners(controller.signal)).toBe(1);
    const outcomes = Promise.allSettled(runs);
    controller.abort();
    const settled = await outcomes;
    expect(settled.every((outcome) => outcome.status === 'rejected' && outcome.reason instanceof TaskAbortedError)).toBe(
      true,
    );
    await nextTurn();
    expect(warnings.map((warning) => warning.name)).not.toContain('MaxListenersExceededWarning');
  });

  it('Task: the listener goes once every trigger has settled', async () => {
    const { promise, open } = gate();
    const task = new Task({ taskFunction: () => promise });
    const controller = new AbortController();
    const runs = Array.from({ length: CONCURRENT }, (_, i) => task.trigger(i, { signal: controller.signal }));
    expect(abortListeners(controller.signal)).toBe(1);
    open();
    await Promise.all(runs);
    expect(abortListeners(controller.signal)).toBe(0);
    await nextTurn();
    expect(warnings.map((warning) => warning.name)).not.toContain('MaxListenersExceededWarning');
  });

  it('buffered Task: one listener for the running and the waiting callers', async () => {
    const { promise, open } = gate();
    const task = new Task({ buffered: true, bufferMax: 4, taskFunction: () => promise });
    const controller = new AbortController();
    const runs = Array.from({ length: CONCURRENT }, (_, i) => task.trigger(i, { signal: controller.signal }));
    expect(abortListeners(controller.signal)).toBe(1);
    open();
    await Promise.all(runs);
    expect(abortListeners(controller.signal)).toBe(0);
    await nextTurn();
    expect(warnings.map((warning) => warning.name)).not.toContain('MaxListenersExceededWarning');
  });

  it('TaskDebounced: one listener for every caller of the period', async () => {
    vi.useFakeTimers();
    const task = new TaskDebounced({ debounceTimeInMillis: 10, taskFunction: async (input: number) => input });
    const controller = new AbortController();
    const runs = Array.from({ length: CONCURRENT }, (_, i) => task.trigger(i, { signal: controller.signal }));
    expect(abortListeners(controller.signal)).toBe(1);
    await vi.advanceTimersByTimeAsync(10);
    await expect(Promise.all(runs)).resolves.toHaveLength(CONCURRENT);
    expect(abortListeners(controller.signal)).toBe(0);
  });

  it('TaskOnce: one listener for every caller of the shared run', async () => {
    const { promise, open } = gate();
    const task = new TaskOnce({ taskFunction: () => promise });
    const controller = new AbortController();
    const runs = Array.from({ length: CONCURRENT }, () => task.trigger(undefined, { signal: controller.signal }));
    expect(abortListeners(controller.signal)).toBe(1);
    open();
    await Promise.all(runs);
    expect(abortListeners(controller.signal)).toBe(0);
    await nextTurn();
    expect(warnings.map((warning) => warning.name)).not.toContain('MaxListenersExceededWarning');
  });

  it('keeps one listener per signal across tasks', () => {
    const { promise } = gate();
    const tasks = Array.from({ length: 20 }, () => new Task({ taskFunction: () => promise }));
    const controller = new AbortController();
    for (const task of tasks) task.trigger(undefined, { signal: controller.signal });
    expect(abortListeners(controller.signal)).toBe(1);
  });
});

describe('addAbortListener', () => {
  it('calls each listener once, skips one removed during the dispatch, and reports a throwing one', async () => {
    const controller = new AbortController();
    const calls: string[] = [];
    const second = () => calls.push('second');
    addAbortListener(controller.signal, () => {
      calls.push('first');
      removeAbortListener(controller.signal, second);
    });
    addAbortListener(controller.signal, second);
    addAbortListener(controller.signal, () => {
      throw new Error('listener failed');
    });
    addAbortListener(controller.signal, () => calls.push('last'));
    const uncaught = new Promise<unknown>((resolve) => process.once('uncaughtException', resolve));
    controller.abort();
    expect(calls).toEqual(['first', 'last']);
    expect(abortListeners(controller.signal)).toBe(0);
    await expect(uncaught).resolves.toMatchObject({ message: 'listener failed' });
  });
});
