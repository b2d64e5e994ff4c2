import { describe, expect, it } from 'vitest';
import { ChainError } from './errors.js';
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
