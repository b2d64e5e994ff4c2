import type { Observable } from 'rxjs';
import { describe, expectTypeOf, it } from 'vitest';
import { Task } from './task.js';
import { type ITaskManagerStopOptions, TaskManager, type TaskManagerState } from './task-manager.js';
import type { ITaskRunContext } from './types.js';

describe('TaskManager lifecycle types', () => {
  const manager = new TaskManager();
  const greet = new Task({ name: 'Greet', taskFunction: async (name: string) => `Hello, ${name}!` });
  const tick = new Task({ name: 'Tick', taskFunction: async () => 1 });
  const signal = new AbortController().signal;

  it('takes a signal after the input of every trigger method', () => {
    expectTypeOf(manager.triggerTask(greet, 'World', { signal })).resolves.toEqualTypeOf<string | undefined>();
    expectTypeOf(manager.triggerTaskConstrained(tick, undefined, { signal })).resolves.toEqualTypeOf<number | undefined>();
    manager.triggerTaskByName('Greet', 'World', { signal });
    // @ts-expect-error the options are an object with a signal
    manager.triggerTask(greet, 'World', { signal: 'abort' });
  });

  it('stops with an optional timeout and reports its state', () => {
    expectTypeOf(manager.stop({ timeoutMs: 0 })).toEqualTypeOf<Promise<void>>();
    expectTypeOf<ITaskManagerStopOptions['timeoutMs']>().toEqualTypeOf<number | undefined>();
    expectTypeOf(manager.onIdle()).toEqualTypeOf<Promise<void>>();
    expectTypeOf(manager.running).toEqualTypeOf<number>();
    expectTypeOf(manager.waiting).toEqualTypeOf<number>();
    expectTypeOf(manager.state).toEqualTypeOf<TaskManagerState>();
    expectTypeOf(manager.stateChanges).toEqualTypeOf<Observable<TaskManagerState>>();
    expectTypeOf<TaskManagerState>().toEqualTypeOf<'new' | 'starting' | 'started' | 'stopping' | 'stopped'>();
  });

  it('gives the run its trigger, tick and fence', () => {
    expectTypeOf<ITaskRunContext['trigger']>().toEqualTypeOf<'manual' | 'schedule'>();
    expectTypeOf<ITaskRunContext['scheduledTime']>().toEqualTypeOf<Date | undefined>();
    expectTypeOf<ITaskRunContext['fence']>().toEqualTypeOf<number | undefined>();
  });
});
