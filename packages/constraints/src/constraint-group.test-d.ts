import { type ConstraintGroupPort, Task, TaskManager } from '@taskbuffer/core';
import { describe, expectTypeOf, it } from 'vitest';
import { type ITaskConstraintGroupOptions, TaskConstraintGroup } from './index.js';

describe('TaskConstraintGroup', () => {
  describe('constructor', () => {
    it('types task.data from the type parameter', () => {
      new TaskConstraintGroup<{ domain: string }>({
        name: 'domain-mutex',
        maxConcurrent: 1,
        constraintKeyForExecution: (task, input?) => {
          expectTypeOf(task.data).toEqualTypeOf<{ domain: string }>();
          expectTypeOf(input).toBeAny();
          return task.data.domain;
        },
      });
    });

    it('lets the input be annotated and data be read without a type parameter', () => {
      new TaskConstraintGroup({
        name: 'tld-mutex',
        constraintKeyForExecution: (task, input?: string) => {
          expectTypeOf(task.data.anything).toBeAny();
          return input ?? null;
        },
        shouldExecute: async (_task, input?: string) => input !== 'skip',
      });
    });

    it('requires a string or null key and a boolean verdict', () => {
      new TaskConstraintGroup({
        name: 'g',
        // @ts-expect-error a key is a string or null
        constraintKeyForExecution: () => 42,
      });
      new TaskConstraintGroup({
        name: 'g',
        constraintKeyForExecution: () => 'all',
        // @ts-expect-error shouldExecute answers with a boolean
        shouldExecute: () => 'yes',
      });
      // @ts-expect-error name is required
      new TaskConstraintGroup({ constraintKeyForExecution: () => 'all' });
    });

    it('takes options typed as ITaskConstraintGroupOptions', () => {
      const options: ITaskConstraintGroupOptions<{ tenant: string }> = {
        name: 'tenant',
        cooldownMs: 100,
        constraintKeyForExecution: (task) => task.data.tenant,
      };
      expectTypeOf(new TaskConstraintGroup(options)).toEqualTypeOf<TaskConstraintGroup<{ tenant: string }>>();
    });
  });

  describe('methods', () => {
    it('have the types of the spec', () => {
      const group = new TaskConstraintGroup<{ domain: string }>({
        name: 'g',
        constraintKeyForExecution: (task) => task.data.domain,
      });
      const task = new Task<undefined, [], { domain: string }>({ name: 't', data: { domain: 'a' }, taskFunction: async () => {} });
      expectTypeOf(group.getConstraintKey(task, 'input')).toEqualTypeOf<string | null>();
      expectTypeOf(group.checkShouldExecute(task)).toEqualTypeOf<Promise<boolean>>();
      expectTypeOf(group.canRun('a')).toEqualTypeOf<boolean>();
      expectTypeOf(group.acquireSlot('a')).toEqualTypeOf<void>();
      expectTypeOf(group.releaseSlot('a')).toEqualTypeOf<void>();
      expectTypeOf(group.getCooldownRemaining('a')).toEqualTypeOf<number>();
      expectTypeOf(group.getRunningCount('a')).toEqualTypeOf<number>();
      expectTypeOf(group.reset()).toEqualTypeOf<void>();
      expectTypeOf(group).toMatchTypeOf<ConstraintGroupPort>();
      new TaskManager().addConstraintGroup(group);
    });
  });
});
