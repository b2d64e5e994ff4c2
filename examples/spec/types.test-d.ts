import type { ITaskConstraintGroupOptions } from '@taskbuffer/constraints';
import { TaskConstraintGroup } from '@taskbuffer/constraints';
import type {
  IScheduledTaskInfo,
  ITaskEvent,
  ITaskExecution,
  ITaskExecutionReport,
  ITaskFunction,
  ITaskMetadata,
  ITaskStep,
  StepNames,
  TTaskEventType,
} from '@taskbuffer/core';
import { Task, TaskManager } from '@taskbuffer/core';
import { describe, expectTypeOf, it } from 'vitest';

// README § Exported Types and the typing promises of the README (only type-checked).
// The spec imports all ten types from one package; `ITaskConstraintGroupOptions`
// comes from @taskbuffer/constraints, the rest from @taskbuffer/core.

describe('README: types', () => {
  it('exports the listed types', () => {
    expectTypeOf<ITaskMetadata['labels']>().toEqualTypeOf<Record<string, string>>();
    expectTypeOf<ITaskMetadata['status']>().toEqualTypeOf<'idle' | 'running' | 'completed' | 'failed'>();
    expectTypeOf<ITaskExecutionReport['stepsCompleted']>().toEqualTypeOf<string[]>();
    expectTypeOf<ITaskExecution['taskName']>().toEqualTypeOf<string>();
    expectTypeOf<IScheduledTaskInfo['schedule']>().toEqualTypeOf<string>();
    expectTypeOf<ITaskEvent['task']>().toEqualTypeOf<ITaskMetadata>();
    expectTypeOf<'started' | 'step' | 'completed' | 'failed'>().toExtend<TTaskEventType>();
    expectTypeOf<ITaskStep['percentage']>().toEqualTypeOf<number>();
    expectTypeOf<ITaskFunction>().toBeFunction();
    expectTypeOf<ITaskConstraintGroupOptions<{ domain: string }>['name']>().toEqualTypeOf<string>();
    expectTypeOf<StepNames<readonly [{ name: 'a' }, { name: 'b' }]>>().toEqualTypeOf<'a' | 'b'>();
  });

  it('Task with Typed Data: task.data is fully typed', () => {
    const task = new Task<undefined, [], { domain: string; priority: number }>({
      name: 'update-dns',
      data: { domain: 'example.com', priority: 1 },
      taskFunction: async () => {
        expectTypeOf(task.data.domain).toEqualTypeOf<string>();
      },
    });
    expectTypeOf(task.data.domain).toEqualTypeOf<string>(); // string — fully typed
    expectTypeOf(task.data.priority).toEqualTypeOf<number>(); // number — fully typed
    // @ts-expect-error not a declared data field
    task.data.owner;
  });

  it('notifyStep only accepts declared step names when steps are `as const`', () => {
    const deployTask = new Task({
      name: 'Deploy',
      steps: [
        { name: 'build', description: 'Building app', percentage: 30 },
        { name: 'test', description: 'Running tests', percentage: 20 },
      ] as const,
      taskFunction: async () => {
        deployTask.notifyStep('build');
        // @ts-expect-error 'ship' is not a declared step
        deployTask.notifyStep('ship');
        return 'Deployment successful!';
      },
    });
    expectTypeOf(deployTask.notifyStep).parameter(0).toEqualTypeOf<'build' | 'test'>();
    expectTypeOf(deployTask.trigger()).resolves.toEqualTypeOf<string>();
  });

  it('constraint callbacks see the typed task data and the input', () => {
    new TaskConstraintGroup<{ domain: string }>({
      name: 'domain-mutex',
      maxConcurrent: 1,
      constraintKeyForExecution: (task, input?) => {
        expectTypeOf(task.data.domain).toEqualTypeOf<string>();
        return task.data.domain;
      },
    });
  });

  it('one-time setup types the task function second argument', () => {
    const task = new Task({
      name: 'DBQuery',
      taskSetup: async () => ({ query: async (sql: string) => [{ sql }] }),
      taskFunction: async (input, pool) => {
        return await pool.query(input);
      },
    });
    expectTypeOf(task.trigger('SELECT 1')).resolves.toEqualTypeOf<{ sql: string }[]>();
  });

  it('TaskManager methods return what the API table says', () => {
    const manager = new TaskManager();
    expectTypeOf(manager.getTaskMetadata('x')).toEqualTypeOf<ITaskMetadata | null>();
    expectTypeOf(manager.getAllTasksMetadata()).toEqualTypeOf<ITaskMetadata[]>();
    expectTypeOf(manager.getScheduledTasks()).toEqualTypeOf<IScheduledTaskInfo[]>();
    expectTypeOf(manager.getTasksMetadataByLabel('k', 'v')).toEqualTypeOf<ITaskMetadata[]>();
    expectTypeOf(manager.addExecuteRemoveTask).returns.resolves.toExtend<ITaskExecutionReport>();
    expectTypeOf(manager.start()).toEqualTypeOf<Promise<void>>();
    expectTypeOf(manager.stop()).toEqualTypeOf<Promise<void>>();
    expectTypeOf(manager.taskSubject.subscribe).toBeFunction();
  });

  it("a task's input type flows from its function to trigger() and the manager", () => {
    // README § Pre-Execution Check with `shouldExecute`: getCert takes a domain.
    const getCert = new Task({
      name: 'get-certificate',
      taskFunction: async (domain: string) => ({ domain, isWildcard: false }),
    });
    expectTypeOf(getCert.trigger('app.example.com')).resolves.toEqualTypeOf<{ domain: string; isWildcard: boolean }>();
    // @ts-expect-error the task takes a string
    getCert.trigger(42);
    const manager = new TaskManager();
    // Skipped by a `shouldExecute`, a manager trigger resolves `undefined`.
    expectTypeOf(manager.triggerTaskConstrained(getCert, 'app.example.com')).resolves.toEqualTypeOf<
      { domain: string; isWildcard: boolean } | undefined
    >();
    expectTypeOf(manager.triggerTask(getCert, 'app.example.com')).resolves.toEqualTypeOf<
      { domain: string; isWildcard: boolean } | undefined
    >();
    // README § Swallowing Errors with `catchErrors`.
    const task = new Task({
      name: 'BestEffort',
      catchErrors: true,
      taskFunction: async () => {
        throw new Error('non-critical');
      },
    });
    expectTypeOf(task.trigger()).resolves.toEqualTypeOf<undefined>();
  });
});
