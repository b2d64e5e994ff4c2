import { describe, expect, it } from 'vitest';
import { Task } from './task.js';
import { Taskparallel } from './taskparallel.js';

describe('Taskparallel', () => {
  describe('trigger', () => {
    it('gives every task the same input, runs them at once and returns results in task order', async () => {
      let running = 0;
      let peak = 0;
      const make = (name: string, delay: number) =>
        new Task({
          name,
          taskFunction: async (input: { message: string }) => {
            running++;
            peak = Math.max(peak, running);
            await new Promise((resolve) => setTimeout(resolve, delay));
            running--;
            return `${name}:${input.message}`;
          },
        });
      const parallel = new Taskparallel({
        taskArray: [make('email', 30), make('sms', 10), make('push', 20), make('webhook', 0)],
      });
      await expect(parallel.trigger({ message: 'hi' })).resolves.toEqual(['email:hi', 'sms:hi', 'push:hi', 'webhook:hi']);
      expect(peak).toBe(4);
    });

    it('rejects when one task fails', async () => {
      const parallel = new Taskparallel({
        taskArray: [
          new Task({ taskFunction: async () => 'ok' }),
          new Task({
            taskFunction: async () => {
              throw new Error('sms gateway down');
            },
          }),
        ],
      });
      await expect(parallel.trigger()).rejects.toThrow('sms gateway down');
    });
  });

  it('refuses a taskArray holding something other than tasks', () => {
    expect(() => new Taskparallel({ taskArray: [1, null] as never })).toThrow(TypeError);
    expect(() => new Taskparallel({ taskArray: [1, null] as never })).toThrow(
      'Expected `taskArray[0]` to be a Task, got `1` (number)',
    );
    expect(() => new Taskparallel({ taskArray: 'x' } as never)).toThrow('Expected `taskArray` to be an array of tasks');
  });
});
