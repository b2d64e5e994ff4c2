import { Task } from '@taskbuffer/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { captureConsole } from './support/console.js';

// README § Error Handling. Each `it` holds one example, verbatim but for the import
// line; assertions after.

describe('README: Error Handling', () => {
  let output: ReturnType<typeof captureConsole>;
  beforeEach(() => {
    output = captureConsole();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('trigger() rejects when the task function throws', async () => {
    const task = new Task({
      name: 'RiskyOp',
      taskFunction: async () => {
        throw new Error('something broke');
      },
    });

    try {
      await task.trigger();
    } catch (err) {
      // `(err as Error)`: under `strict` a catch variable is `unknown`; the spec reads `err.message`.
      console.error((err as Error).message); // "something broke"
    }

    expect(output.error).toEqual(['something broke']);
  });

  it('Swallowing Errors with catchErrors, and Error State Tracking', async () => {
    const task = new Task({
      name: 'BestEffort',
      catchErrors: true,
      taskFunction: async () => {
        throw new Error('non-critical');
      },
    });

    const result = await task.trigger(); // undefined (no throw)

    expect(result).toBeUndefined();

    // Error State Tracking (continues with the task above)
    console.log(task.lastError); // Error object (or undefined)
    console.log(task.errorCount); // Number of failures across all runs
    console.log(task.getMetadata().status); // 'failed'

    expect(task.lastError).toBeInstanceOf(Error);
    expect(task.lastError?.message).toBe('non-critical');
    expect(output.log.slice(1)).toEqual(['1', 'failed']);
    await task.trigger();
    expect(task.errorCount).toBe(2);

    task.clearError(); // Resets lastError to undefined (errorCount stays)

    expect(task.lastError).toBeUndefined();
    expect(task.errorCount).toBe(2);
    expect(task.getMetadata().lastError).toBeUndefined();
  });

  it('Error State Tracking: errors are tracked without catchErrors too, and a success clears lastError', async () => {
    let fail = true;
    const task = new Task({
      name: 'Sometimes',
      taskFunction: async () => {
        if (fail) throw new Error('first try fails');
        return 'ok';
      },
    });
    await expect(task.trigger()).rejects.toThrow('first try fails');
    expect(task.lastError?.message).toBe('first try fails');
    expect(task.getMetadata()).toMatchObject({ status: 'failed', lastError: 'first try fails', errorCount: 1 });

    fail = false;
    await expect(task.trigger()).resolves.toBe('ok');
    // "On a subsequent successful run, lastError is automatically cleared."
    expect(task.lastError).toBeUndefined();
    expect(task.errorCount).toBe(1);
    expect(task.runCount).toBe(2);
    expect(task.getMetadata().status).toBe('completed');
  });
});
