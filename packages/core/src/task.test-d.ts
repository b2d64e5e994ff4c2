import type { Subject } from 'rxjs';
import { describe, expectTypeOf, it } from 'vitest';
import { Task } from './task.js';
import { TaskManager } from './task-manager.js';
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
