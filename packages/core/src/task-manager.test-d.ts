import { describe, expectTypeOf, it } from 'vitest';
import type { AnyTask } from './ports.js';
import { Task } from './task.js';
import { TaskManager } from './task-manager.js';
import type { ITaskExecutionReport } from './types.js';

// A manager trigger may resolve `undefined` whatever the task: a constraint
// group's `shouldExecute` can skip it.
describe('TaskManager types', () => {
  const manager = new TaskManager();
  const greet = new Task({ name: 'Greet', taskFunction: async (name: string) => `Hello, ${name}!` });
  const bestEffort = new Task({ name: 'BestEffort', catchErrors: true, taskFunction: async () => 42 });

  describe('triggerTask', () => {
    it("takes the task's input and resolves with its result", () => {
      expectTypeOf(manager.triggerTask(greet, 'World')).resolves.toEqualTypeOf<string | undefined>();
      expectTypeOf(manager.triggerTask(bestEffort)).resolves.toEqualTypeOf<number | undefined>();
      // @ts-expect-error the task takes a string
      manager.triggerTask(greet, 42);
      // @ts-expect-error the input is required
      manager.triggerTask(greet);
    });

    it('stays loose for a task of unknown type', () => {
      const task: AnyTask = greet;
      expectTypeOf(manager.triggerTask(task)).resolves.toBeAny();
      manager.triggerTask(task, 42);
    });
  });

  describe('triggerTaskConstrained', () => {
    it('is typed like triggerTask', () => {
      expectTypeOf(manager.triggerTaskConstrained(greet, 'app.example.com')).resolves.toEqualTypeOf<
        string | undefined
      >();
      // @ts-expect-error the task takes a string
      manager.triggerTaskConstrained(greet, 42);
    });
  });

  describe('triggerTaskByName', () => {
    it('is loose: a name says nothing of the types', () => {
      expectTypeOf(manager.triggerTaskByName('Greet', 42)).resolves.toBeAny();
      expectTypeOf(manager.triggerTaskByName).parameter(1).toEqualTypeOf<unknown>();
    });
  });

  describe('addExecuteRemoveTask', () => {
    it("takes the task's input and reports its result", () => {
      expectTypeOf(manager.addExecuteRemoveTask(greet, { input: 'World' })).resolves.toEqualTypeOf<
        ITaskExecutionReport<string | undefined>
      >();
      // @ts-expect-error the task takes a string
      manager.addExecuteRemoveTask(greet, { input: 42 });
    });
  });
});
