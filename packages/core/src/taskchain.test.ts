import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChainError, TaskAbortedError, TaskTimeoutError } from './errors.js';
import { Task } from './task.js';
import { Taskchain } from './taskchain.js';

describe('Taskchain', () => {
  describe('trigger', () => {
    it('feeds each task the result of the one before (spec example)', async () => {
      const saved: unknown[] = [];
      const fetchTask = new Task({ name: 'Fetch', taskFunction: async () => [{ id: 1 }, { id: 2 }] });
      const transformTask = new Task({
        name: 'Transform',
        taskFunction: async (data: Array<{ id: number }>) => data.map((item) => ({ ...item, transformed: true })),
      });
      const saveTask = new Task({
        name: 'Save',
        taskFunction: async (transformedData: unknown[]) => {
          saved.push(...transformedData);
          return transformedData.length;
        },
      });
      const pipeline = new Taskchain({ name: 'DataPipeline', taskArray: [fetchTask, transformTask, saveTask] });
      await expect(pipeline.trigger()).resolves.toBe(2);
      expect(saved).toEqual([
        { id: 1, transformed: true },
        { id: 2, transformed: true },
      ]);
    });

    it('passes its own input to the first task', async () => {
      const chain = new Taskchain({
        name: 'math',
        taskArray: [new Task({ taskFunction: async (x: number) => x + 1 }), new Task({ taskFunction: async (x: number) => x * 10 })],
      });
      await expect(chain.trigger(4)).resolves.toBe(50);
    });

    it('rejects with a ChainError naming the chain, the task and its index, with the cause', async () => {
      const original = new Error('schema mismatch');
      const ran: string[] = [];
      const migration = new Taskchain({
        name: 'DatabaseMigration',
        taskArray: [
          new Task({ name: 'backup', taskFunction: async () => void ran.push('backup') }),
          new Task({
            name: 'validateSchema',
            taskFunction: async () => {
              throw original;
            },
          }),
          new Task({ name: 'runMigrations', taskFunction: async () => void ran.push('runMigrations') }),
        ],
      });
      const error = await migration.trigger().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ChainError);
      const chainError = error as ChainError;
      expect(chainError.chainName).toBe('DatabaseMigration');
      expect(chainError.taskName).toBe('validateSchema');
      expect(chainError.taskIndex).toBe(1);
      expect(chainError.cause).toBe(original);
      expect(chainError.message).toContain('DatabaseMigration');
      expect(chainError.message).toContain('validateSchema');
      expect(chainError.message).toContain('schema mismatch');
      expect(ran).toEqual(['backup']);
    });
  });

  describe('timeout and signal', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    /** A step that records when it starts and ends, and whether its signal aborted; it ignores the signal. */
    function slowStep(name: string, log: string[], ms: number) {
      return new Task({
        name,
        taskFunction: async (input: unknown, _setup, { signal }) => {
          log.push(`${name} start`);
          signal.addEventListener('abort', () => log.push(`${name} aborted`));
          await new Promise((resolve) => setTimeout(resolve, ms));
          log.push(`${name} end`);
          return input;
        },
      });
    }

    it('aborts the step under way at its timeout and starts no further step', async () => {
      vi.useFakeTimers();
      const log: string[] = [];
      const finished = vi.fn();
      const chain = new Taskchain({
        name: 'migration',
        timeout: 50,
        taskArray: [slowStep('backup', log, 30), slowStep('migrate', log, 100), slowStep('verify', log, 10)],
      });
      const run = chain.trigger(undefined, { onFinished: finished });
      const outcome = run.catch((caught: unknown) => caught);
      await vi.advanceTimersByTimeAsync(50);
      const error = await outcome;
      expect(error).toBeInstanceOf(TaskTimeoutError);
      expect(log).toEqual(['backup start', 'backup end', 'migrate start', 'migrate aborted']);
      // The step ignores its signal: the chain counts as running until it has returned.
      expect(chain.running).toBe(true);
      expect(finished).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(1_000);
      expect(log).toEqual(['backup start', 'backup end', 'migrate start', 'migrate aborted', 'migrate end']);
      expect(chain.running).toBe(false);
      expect(finished).toHaveBeenCalledTimes(1);
    });

    it('runs a rollback in catch with no step of the chain running beside it (spec pattern)', async () => {
      vi.useFakeTimers();
      const log: string[] = [];
      const migration = new Taskchain({
        name: 'DatabaseMigration',
        timeout: 50,
        taskArray: [slowStep('backup', log, 10), slowStep('runMigrations', log, 60), slowStep('verifyIntegrity', log, 10)],
      });
      const rollbackTask = new Task({ name: 'rollback', taskFunction: async () => void log.push('rollback') });
      const done = (async () => {
        try {
          await migration.trigger();
        } catch {
          await rollbackTask.trigger();
        }
      })();
      await vi.advanceTimersByTimeAsync(1_000);
      await done;
      expect(log).not.toContain('verifyIntegrity start');
      expect(log.indexOf('rollback')).toBeGreaterThan(log.indexOf('runMigrations aborted'));
    });

    it("aborts the step under way when the caller's signal aborts", async () => {
      const controller = new AbortController();
      let stepSignal: AbortSignal | undefined;
      let started!: () => void;
      const stepStarted = new Promise<void>((resolve) => (started = resolve));
      let finished!: () => void;
      const chainFinished = new Promise<void>((resolve) => (finished = resolve));
      const second = vi.fn(async () => 'second');
      const chain = new Taskchain({
        name: 'chain',
        taskArray: [
          new Task({
            name: 'waits',
            taskFunction: (_input: unknown, _setup, { signal }) => {
              stepSignal = signal;
              started();
              return new Promise((_resolve, reject) => {
                signal.addEventListener('abort', () => reject(signal.reason));
              });
            },
          }),
          new Task({ name: 'second', taskFunction: second }),
        ],
      });
      const run = chain.trigger(undefined, { signal: controller.signal, onFinished: finished });
      await stepStarted;
      controller.abort(new Error('user cancelled'));
      await expect(run).rejects.toBeInstanceOf(TaskAbortedError);
      expect(stepSignal?.aborted).toBe(true);
      await chainFinished;
      expect(chain.running).toBe(false);
      expect(second).not.toHaveBeenCalled();
    });

    it('passes the abort on to the steps of a nested chain', async () => {
      vi.useFakeTimers();
      const log: string[] = [];
      const inner = new Taskchain({ name: 'inner', taskArray: [slowStep('deep', log, 100), slowStep('after', log, 1)] });
      const outer = new Taskchain({ name: 'outer', timeout: 20, taskArray: [inner] });
      const outcome = outer.trigger().catch((caught: unknown) => caught);
      await vi.advanceTimersByTimeAsync(1_000);
      expect(await outcome).toBeInstanceOf(TaskTimeoutError);
      expect(log).toEqual(['deep start', 'deep aborted', 'deep end']);
    });
  });

  it('names a step that threw a value String() cannot convert', async () => {
    const chain = new Taskchain({
      name: 'odd',
      taskArray: [
        new Task({
          name: 'thrower',
          taskFunction: () => {
            throw Object.create(null);
          },
        }),
      ],
    });
    const error = await chain.trigger().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ChainError);
    expect((error as ChainError).taskName).toBe('thrower');
    expect(chain.errorCount).toBe(1);
  });

  describe('addTask, removeTask, shiftTask', () => {
    it('changes the chain for the next run', async () => {
      const a = new Task({ name: 'a', taskFunction: async (x: string) => `${x}a` });
      const b = new Task({ name: 'b', taskFunction: async (x: string) => `${x}b` });
      const c = new Task({ name: 'c', taskFunction: async (x: string) => `${x}c` });
      const chain = new Taskchain({ name: 'letters', taskArray: [a, b] });
      chain.addTask(c);
      await expect(chain.trigger('')).resolves.toBe('abc');
      expect(chain.removeTask(b)).toBe(true);
      expect(chain.removeTask(b)).toBe(false);
      await expect(chain.trigger('')).resolves.toBe('ac');
      expect(chain.shiftTask()).toBe(a);
      await expect(chain.trigger('')).resolves.toBe('c');
    });

    it('does not change a chain through the array it was given', async () => {
      const taskArray = [new Task({ taskFunction: async () => 'one' })];
      const chain = new Taskchain({ name: 'copy', taskArray });
      taskArray.push(new Task({ taskFunction: async () => 'two' }));
      await expect(chain.trigger()).resolves.toBe('one');
    });
  });

  it('requires a taskArray', () => {
    expect(() => new Taskchain({ name: 'x' } as never)).toThrow('Expected `taskArray` to be an array of tasks');
  });

  it('refuses a taskArray holding something other than tasks, and addTask of a non-task', () => {
    expect(() => new Taskchain({ name: 'x', taskArray: [1, null] as never })).toThrow(
      'Expected `taskArray[0]` to be a Task, got `1` (number)',
    );
    const task = new Task({ taskFunction: async () => {} });
    expect(() => new Taskchain({ name: 'x', taskArray: [task, null] as never })).toThrow(
      'Expected `taskArray[1]` to be a Task, got `null`',
    );
    const chain = new Taskchain({ name: 'x', taskArray: [task] });
    expect(() => chain.addTask({ trigger: 'no' } as never)).toThrow(TypeError);
    expect(chain.taskArray).toEqual([task]);
  });
});
