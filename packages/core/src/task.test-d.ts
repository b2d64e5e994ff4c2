import type { Subject } from 'rxjs';
import { describe, expectTypeOf, it } from 'vitest';
import { TaskDebounced } from './task-debounced.js';
import { TaskOnce } from './task-once.js';
import { Task, type TaskInput, type TaskResult } from './task.js';
import { TaskManager } from './task-manager.js';
import { Taskchain } from './taskchain.js';
import { Taskparallel } from './taskparallel.js';
import type { ITaskEvent, ITaskMetadata, StepNames } from './types.js';

describe('Task types', () => {
  it('types data from the type parameter', () => {
    const task = new Task<undefined, [], { domain: string; priority: number }>({
      name: 'update-dns',
      data: { domain: 'example.com', priority: 1 },
      taskFunction: async () => {
        expectTypeOf(task.data.domain).toEqualTypeOf<string>();
      },
    });
    expectTypeOf(task.data.domain).toEqualTypeOf<string>();
    expectTypeOf(task.data.priority).toEqualTypeOf<number>();
    // @ts-expect-error not a declared data field
    task.data.missing;
  });

  it('types notifyStep to the declared step names', () => {
    const deployTask = new Task({
      name: 'Deploy',
      steps: [
        { name: 'build', description: 'Building app', percentage: 30 },
        { name: 'deploy', description: 'Deploying', percentage: 70 },
      ] as const,
      taskFunction: async () => {
        deployTask.notifyStep('build');
        return 'ok';
      },
    });
    expectTypeOf(deployTask.notifyStep).parameter(0).toEqualTypeOf<'build' | 'deploy'>();
    // @ts-expect-error not a declared step
    deployTask.notifyStep('verify');
  });

  it('infers the setup value for the task function', () => {
    const task = new Task({
      taskSetup: async () => ({ query: (sql: string) => sql.length }),
      taskFunction: async (input: string, pool) => {
        expectTypeOf(pool.query).returns.toEqualTypeOf<number>();
        return pool.query(input);
      },
    });
    expectTypeOf(task.trigger('x')).resolves.toEqualTypeOf<number>();
  });

  it('infers the result from the task function', () => {
    const greet = new Task({ name: 'Greet', taskFunction: async (name) => `Hello, ${name}!` });
    expectTypeOf(greet.trigger('World')).resolves.toEqualTypeOf<string>();
  });

  it('types metadata and events', () => {
    const task = new Task({ taskFunction: async () => {} });
    expectTypeOf(task.getMetadata()).toEqualTypeOf<ITaskMetadata>();
    expectTypeOf(task.eventSubject).toEqualTypeOf<Subject<ITaskEvent>>();
    expectTypeOf(task.lastError).toEqualTypeOf<Error | undefined>();
    expectTypeOf(task.lastRun).toEqualTypeOf<Date | undefined>();
  });

  it('gives StepNames of a steps tuple', () => {
    const steps = [
      { name: 'fetch', description: '', percentage: 50 },
      { name: 'save', description: '', percentage: 50 },
    ] as const;
    expectTypeOf<StepNames<typeof steps>>().toEqualTypeOf<'fetch' | 'save'>();
  });

  it('lets users read the limits of the registered constraint groups', () => {
    const manager = new TaskManager();
    expectTypeOf(manager.constraintGroups[0]!.maxConcurrent).toEqualTypeOf<number>();
    expectTypeOf(manager.constraintGroups[0]!.cooldownMs).toEqualTypeOf<number>();
    expectTypeOf(manager.constraintGroups[0]!.name).toEqualTypeOf<string>();
  });

  it('accepts tasks of any data type in a manager', () => {
    const manager = new TaskManager();
    manager.addTask(new Task<undefined, [], { tenantId: string }>({ name: 't', data: { tenantId: 'a' }, taskFunction: async () => {} }));
    expectTypeOf(manager.getTaskMetadata('t')).toEqualTypeOf<ITaskMetadata | null>();
  });
});

describe('Task input and result types', () => {
  const greet = new Task({ name: 'Greet', taskFunction: async (name: string) => `Hello, ${name}!` });

  it("takes the task function's input type in trigger()", () => {
    expectTypeOf(greet.trigger).parameter(0).toEqualTypeOf<string>();
    expectTypeOf(greet.trigger('World')).resolves.toEqualTypeOf<string>();
    // @ts-expect-error the task takes a string
    greet.trigger(42);
    // @ts-expect-error the input is required when the function does not accept undefined
    greet.trigger();
    greet.trigger('World', { signal: new AbortController().signal });
  });

  it('lets the input be left out when the function accepts undefined or declares no type', () => {
    const optional = new Task({ taskFunction: async (domain?: string) => domain ?? 'none' });
    expectTypeOf(optional.trigger()).resolves.toEqualTypeOf<string>();
    // @ts-expect-error still a string when given
    optional.trigger(1);
    const untyped = new Task({ taskFunction: async () => 1 });
    expectTypeOf(untyped.trigger()).resolves.toEqualTypeOf<number>();
    expectTypeOf(untyped.trigger('anything')).resolves.toEqualTypeOf<number>();
  });

  it('types the result `TResult | undefined` with catchErrors: true', () => {
    const bestEffort = new Task({ catchErrors: true, taskFunction: async (count: number) => count * 2 });
    expectTypeOf(bestEffort.trigger(1)).resolves.toEqualTypeOf<number | undefined>();
    const strict = new Task({ catchErrors: false, taskFunction: async (count: number) => count * 2 });
    expectTypeOf(strict.trigger(1)).resolves.toEqualTypeOf<number>();
    const flag: boolean = Math.random() > 0.5;
    const either = new Task({ catchErrors: flag, taskFunction: async () => 'x' });
    expectTypeOf(either.trigger()).resolves.toEqualTypeOf<string | undefined>();
  });

  it('keeps the type of catchErrors honest', () => {
    const strict = new Task({ taskFunction: async () => 'x' });
    // @ts-expect-error the result type was fixed without undefined
    strict.catchErrors = true;
  });

  it('keeps the explicit form Task<TSetup, TSteps, TData> with any input and result', () => {
    const task = new Task<undefined, [], { domain: string }>({
      name: 'update-dns',
      data: { domain: 'example.com' },
      catchErrors: true,
      taskFunction: async (input: string) => input.length,
    });
    expectTypeOf(task.trigger('x')).resolves.toBeAny();
    task.trigger();
  });

  it('types TaskOnce and TaskDebounced like Task', () => {
    const once = new TaskOnce({ taskFunction: async (url: string) => url.length });
    expectTypeOf(once.trigger('https://example.com')).resolves.toEqualTypeOf<number>();
    // @ts-expect-error the task takes a string
    once.trigger(1);
    const search = new TaskDebounced({
      debounceTimeInMillis: 300,
      catchErrors: true,
      taskFunction: async (query: string) => [query],
    });
    expectTypeOf(search.trigger('hello')).resolves.toEqualTypeOf<string[] | undefined>();
    // @ts-expect-error the task takes a string
    search.trigger(1);
  });

  it('types TaskInput and TaskResult of a task', () => {
    expectTypeOf<TaskInput<typeof greet>>().toEqualTypeOf<string>();
    expectTypeOf<TaskResult<typeof greet>>().toEqualTypeOf<string>();
    const bestEffort = new TaskOnce({ catchErrors: true, taskFunction: async () => 1 });
    expectTypeOf<TaskResult<typeof bestEffort>>().toEqualTypeOf<number | undefined>();
  });

  it('accepts typed tasks wherever any task goes', () => {
    const strict = new Task({ catchErrors: true, taskFunction: async (count: number) => count });
    new Task({ preTask: strict, afterTask: () => greet, taskFunction: async () => {} });
    new Taskchain({ name: 'chain', taskArray: [strict, greet] });
    new Taskparallel({ taskArray: [strict, greet] });
    new TaskManager().addTask(strict);
  });
});
