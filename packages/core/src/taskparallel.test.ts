import { afterEach, describe, expect, it, vi } from 'vitest';
import { TaskTimeoutError } from './errors.js';
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

    describe('when it rejects', () => {
      afterEach(() => {
        vi.useRealTimers();
      });

      function sibling(name: string, log: string[], ms: number, honoursSignal: boolean) {
        return new Task({
          name,
          taskFunction: (_input: unknown, _setup, { signal }) =>
            new Promise<string>((resolve, reject) => {
              const timer = setTimeout(() => {
                log.push(`${name} end`);
                resolve(name);
              }, ms);
              signal.addEventListener('abort', () => {
                log.push(`${name} aborted`);
                if (honoursSignal) {
                  clearTimeout(timer);
                  reject(signal.reason);
                }
              });
            }),
        });
      }

      it("aborts the other tasks' signals and rejects once they have stopped", async () => {
        vi.useFakeTimers();
        const log: string[] = [];
        const failure = new Error('sms gateway down');
        const parallel = new Taskparallel({
          taskArray: [
            sibling('email', log, 1_000, true),
            new Task({
              name: 'sms',
              taskFunction: async () => {
                await new Promise((resolve) => setTimeout(resolve, 10));
                throw failure;
              },
            }),
            sibling('push', log, 100, false),
          ],
        });
        let settled = false;
        const outcome = parallel.trigger().catch((caught: unknown) => caught).finally(() => (settled = true));
        await vi.advanceTimersByTimeAsync(10);
        expect(log).toEqual(['email aborted', 'push aborted']);
        // `push` ignores its signal: the parallel waits for it before rejecting.
        expect(settled).toBe(false);
        await vi.advanceTimersByTimeAsync(90);
        expect(await outcome).toBe(failure);
        expect(log).toEqual(['email aborted', 'push aborted', 'push end']);
        expect(parallel.running).toBe(false);
      });

      it('aborts every task at its own timeout', async () => {
        vi.useFakeTimers();
        const log: string[] = [];
        const parallel = new Taskparallel({
          timeout: 50,
          taskArray: [sibling('a', log, 1_000, true), sibling('b', log, 1_000, true)],
        });
        const outcome = parallel.trigger().catch((caught: unknown) => caught);
        await vi.advanceTimersByTimeAsync(50);
        expect(await outcome).toBeInstanceOf(TaskTimeoutError);
        expect(log).toEqual(['a aborted', 'b aborted']);
        await vi.advanceTimersByTimeAsync(0);
        expect(parallel.running).toBe(false);
      });
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
