import { afterEach, describe, expect, it, vi } from 'vitest';
import { TaskAbortedError, TaskHookError, TaskTimeoutError } from './errors.js';
import { Task } from './task.js';
import { TaskDebounced } from './task-debounced.js';
import { TaskOnce } from './task-once.js';
import type { ITaskEvent } from './types.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Task', () => {
  describe('constructor', () => {
    it('rejects a missing taskFunction with a TypeError naming the option', () => {
      expect(() => new Task({} as never)).toThrow(TypeError);
      expect(() => new Task({} as never)).toThrow('Expected `taskFunction` to be a function, got `undefined`');
    });

    it('rejects a bufferMax that is not a positive integer', () => {
      const taskFunction = async () => {};
      expect(() => new Task({ taskFunction, buffered: true, bufferMax: 0 })).toThrow(
        'Expected `bufferMax` to be a positive integer, got `0` (number)',
      );
      expect(() => new Task({ taskFunction, buffered: true, bufferMax: 1.5 })).toThrow(TypeError);
    });

    it('rejects a timeout that is not positive', () => {
      expect(() => new Task({ taskFunction: async () => {}, timeout: -5 })).toThrow(
        'Expected `timeout` to be a positive finite number of milliseconds, got `-5` (number)',
      );
      expect(() => new Task({ taskFunction: async () => {}, timeout: 0 })).toThrow(TypeError);
    });

    it('rejects duplicate step names', () => {
      expect(
        () =>
          new Task({
            taskFunction: async () => {},
            steps: [
              { name: 'a', description: 'A', percentage: 50 },
              { name: 'a', description: 'A again', percentage: 50 },
            ],
          }),
      ).toThrow('Expected step names to be unique, got `"a"` twice (steps[1])');
    });

    it('rejects label values that are not strings', () => {
      expect(() => new Task({ taskFunction: async () => {}, labels: { n: 1 as never } })).toThrow(
        'Expected `labels.n` to be a string, got `1` (number)',
      );
    });

    it('rejects options of the wrong type with a TypeError naming the option', () => {
      const taskFunction = async () => {};
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ catchErrors: 'no' }, 'Expected `catchErrors` to be a boolean, got `"no"` (string)'],
        [{ buffered: 'yes' }, 'Expected `buffered` to be a boolean, got `"yes"` (string)'],
        [{ labels: ['x'] }, 'Expected `labels` to be an object of string values, got `["x"]` (object)'],
        [{ data: 5 }, 'Expected `data` to be an object, got `5` (number)'],
        [{ data: null }, 'Expected `data` to be an object, got `null`'],
        [{ version: 5 }, 'Expected `version` to be a string, got `5` (number)'],
        [{ clock: {} }, 'Expected `clock` to be a Clock with `now`, `setTimeout` and `clearTimeout` functions, got `{}` (object)'],
        [{ clock: 5 }, 'Expected `clock` to be a Clock'],
        [{ preTask: 'x' }, 'Expected `preTask` to be a Task or a function that returns one, got `"x"` (string)'],
        [{ afterTask: 42 }, 'Expected `afterTask` to be a Task or a function that returns one, got `42` (number)'],
      ];
      for (const [options, message] of cases) {
        expect(() => new Task({ taskFunction, ...options } as never), JSON.stringify(options)).toThrow(TypeError);
        expect(() => new Task({ taskFunction, ...options } as never), JSON.stringify(options)).toThrow(message);
      }
    });

    it('checks the options of TaskOnce and TaskDebounced the same way', () => {
      const taskFunction = async () => {};
      expect(() => new TaskOnce({ taskFunction, catchErrors: 'no' as never })).toThrow(
        'Expected `catchErrors` to be a boolean, got `"no"` (string)',
      );
      expect(() => new TaskDebounced({ taskFunction, debounceTimeInMillis: 10, labels: ['x'] as never })).toThrow(
        'Expected `labels` to be an object of string values',
      );
      expect(() => new TaskDebounced(null as never)).toThrow('Expected `options` to be an object');
    });

    it('never leaves a task running when it was given a bad clock', () => {
      let task: Task | undefined;
      expect(() => {
        task = new Task({ taskFunction: async () => {}, clock: {} as never });
      }).toThrow(TypeError);
      expect(task).toBeUndefined();
    });

    it('refuses a step percentage that is not finite', () => {
      expect(
        () =>
          new Task({
            taskFunction: async () => {},
            steps: [
              { name: 'a', description: 'A', percentage: Infinity },
              { name: 'b', description: 'B', percentage: 0 },
            ],
          }),
      ).toThrow('Expected `steps[0].percentage` to be a finite number >= 0, got `Infinity` (number)');
    });

    it('refuses step percentages that do not add up to 100', () => {
      const steps = (...percentages: number[]) =>
        percentages.map((percentage, index) => ({ name: `s${index}`, description: '', percentage }));
      expect(() => new Task({ taskFunction: async () => {}, steps: steps(10, 20) })).toThrow(
        'Expected the percentages of `steps` to add up to 100, got 30',
      );
      expect(() => new Task({ taskFunction: async () => {}, steps: steps(200, 50) })).toThrow(
        'Expected the percentages of `steps` to add up to 100, got 250',
      );
      expect(() => new Task({ taskFunction: async () => {}, steps: steps(33.3, 33.3, 33.4) })).not.toThrow();
      expect(() => new Task({ taskFunction: async () => {}, steps: [] })).not.toThrow();
    });

    it('refuses a hook assigned later that is neither a task nor a function', () => {
      const task = new Task({ taskFunction: async () => {} });
      expect(() => {
        task.afterTask = 42 as never;
      }).toThrow('Expected `afterTask` to be a Task or a function that returns one, got `42` (number)');
      expect(task.afterTask).toBeUndefined();
    });

    it('rejects bad retry options', () => {
      expect(() => new Task({ taskFunction: async () => {}, retry: { retries: -1 } })).toThrow(
        'Expected `retry.retries` to be a non-negative integer, got `-1` (number)',
      );
    });
  });

  describe('trigger', () => {
    it('resolves with the result of the task function (Quick Start)', async () => {
      const greetTask = new Task({
        name: 'Greet',
        taskFunction: async (name) => `Hello, ${name}!`,
      });
      await expect(greetTask.trigger('World')).resolves.toBe('Hello, World!');
    });

    it('runs a synchronous task function', async () => {
      const task = new Task({ taskFunction: (value: number) => value * 2 });
      await expect(task.trigger(21)).resolves.toBe(42);
    });

    it('gives the task function typed data it can read at run time', async () => {
      const seen: string[] = [];
      const task = new Task<undefined, [], { domain: string; priority: number }>({
        name: 'update-dns',
        data: { domain: 'example.com', priority: 1 },
        taskFunction: async () => {
          seen.push(`Updating DNS for ${task.data.domain}`);
        },
      });
      await task.trigger();
      expect(seen).toEqual(['Updating DNS for example.com']);
      expect(task.data.priority).toBe(1);
    });

    it('defaults data to an empty object', () => {
      expect(new Task({ taskFunction: async () => {} }).data).toEqual({});
    });

    it('tracks running, idle, runCount and lastRun', async () => {
      const gate = deferred();
      const task = new Task({ taskFunction: () => gate.promise });
      expect(task.idle).toBe(true);
      expect(task.lastRun).toBeUndefined();
      const before = Date.now();
      const run = task.trigger();
      expect(task.running).toBe(true);
      expect(task.idle).toBe(false);
      expect(task.getMetadata().status).toBe('running');
      gate.resolve();
      await run;
      expect(task.running).toBe(false);
      expect(task.runCount).toBe(1);
      expect(task.lastRun).toBeInstanceOf(Date);
      expect(task.lastRun!.getTime()).toBeGreaterThanOrEqual(before);
      expect(task.getMetadata().status).toBe('completed');
    });

    it('stays running until the last of overlapping runs ends', async () => {
      const gates = [deferred(), deferred()];
      let call = 0;
      const task = new Task({ taskFunction: () => gates[call++]!.promise });
      const first = task.trigger();
      const second = task.trigger();
      gates[0]!.resolve();
      await first;
      expect(task.running).toBe(true);
      expect(task.getMetadata().status).toBe('running');
      gates[1]!.resolve();
      await second;
      expect(task.running).toBe(false);
      expect(task.getMetadata().status).toBe('completed');
    });
  });

  describe('steps and progress', () => {
    const makeDeployTask = (log: string[]) => {
      const deployTask = new Task({
        name: 'Deploy',
        steps: [
          { name: 'build', description: 'Building app', percentage: 30 },
          { name: 'test', description: 'Running tests', percentage: 20 },
          { name: 'deploy', description: 'Deploying to server', percentage: 40 },
          { name: 'verify', description: 'Verifying deployment', percentage: 10 },
        ] as const,
        taskFunction: async () => {
          deployTask.notifyStep('build');
          log.push(`build:${deployTask.getProgress()}`);
          deployTask.notifyStep('test');
          log.push(`test:${deployTask.getProgress()}`);
          deployTask.notifyStep('deploy');
          log.push(`deploy:${deployTask.getProgress()}`);
          deployTask.notifyStep('verify');
          log.push(`verify:${deployTask.getProgress()}`);
          return 'Deployment successful!';
        },
      });
      return deployTask;
    };

    it('advances progress step by step and reaches 100 (spec example)', async () => {
      const log: string[] = [];
      const deployTask = makeDeployTask(log);
      await expect(deployTask.trigger()).resolves.toBe('Deployment successful!');
      expect(log).toEqual(['build:0', 'test:30', 'deploy:50', 'verify:90']);
      expect(deployTask.getProgress()).toBe(100);
      const steps = deployTask.getStepsMetadata();
      expect(steps.map((step) => [step.name, step.status])).toEqual([
        ['build', 'completed'],
        ['test', 'completed'],
        ['deploy', 'completed'],
        ['verify', 'completed'],
      ]);
      for (const step of steps) {
        expect(step.startTime).toEqual(expect.any(Number));
        expect(step.endTime).toBeGreaterThanOrEqual(step.startTime!);
        expect(step.duration).toBe(step.endTime! - step.startTime!);
      }
      expect(steps[0]).toMatchObject({ description: 'Building app', percentage: 30 });
    });

    it('resets steps at the start of every run', async () => {
      let gate = deferred();
      const task = new Task({
        steps: [
          { name: 'one', description: '1', percentage: 50 },
          { name: 'two', description: '2', percentage: 50 },
        ] as const,
        taskFunction: async () => {
          await gate.promise;
          task.notifyStep('one');
          task.notifyStep('two');
        },
      });
      gate.resolve();
      await task.trigger();
      expect(task.getStepsMetadata().map((step) => step.status)).toEqual(['completed', 'completed']);
      gate = deferred();
      const second = task.trigger();
      expect(task.getStepsMetadata().map((step) => step.status)).toEqual(['pending', 'pending']);
      expect(task.getProgress()).toBe(0);
      gate.resolve();
      await second;
      expect(task.getProgress()).toBe(100);
    });

    it('shows the current step and progress in metadata while running', async () => {
      const gate = deferred();
      const task = new Task({
        name: 'Sync',
        steps: [
          { name: 'fetch', description: 'Fetching', percentage: 40 },
          { name: 'save', description: 'Saving', percentage: 60 },
        ] as const,
        taskFunction: async () => {
          task.notifyStep('fetch');
          task.notifyStep('save');
          await gate.promise;
        },
      });
      const run = task.trigger();
      await tick();
      const metadata = task.getMetadata();
      expect(metadata.currentStep).toBe('save');
      expect(metadata.currentProgress).toBe(40);
      expect(metadata.steps.map((step) => step.status)).toEqual(['completed', 'active']);
      gate.resolve();
      await run;
      expect(task.getMetadata().currentProgress).toBe(100);
    });

    it('throws a TypeError listing the declared steps for an unknown step', () => {
      const task = new Task({
        name: 'Deploy',
        steps: [
          { name: 'build', description: 'b', percentage: 50 },
          { name: 'ship', description: 's', percentage: 50 },
        ] as const,
        taskFunction: async () => {},
      });
      expect(() => task.notifyStep('nope' as never)).toThrow(
        'Task "Deploy" has no step `"nope"`; declared steps: "build", "ship"',
      );
    });

    it('reports 0 progress for a task without steps until it completes', async () => {
      const gate = deferred();
      const task = new Task({ taskFunction: () => gate.promise });
      expect(task.getProgress()).toBe(0);
      const run = task.trigger();
      expect(task.getProgress()).toBe(0);
      gate.resolve();
      await run;
      expect(task.getProgress()).toBe(100);
      expect(task.getStepsMetadata()).toEqual([]);
    });
  });

  describe('labels', () => {
    it('sets, reads, checks and removes labels and shows them in metadata (spec example)', () => {
      const task = new Task({
        name: 'ProcessOrder',
        labels: { userId: 'u-42', tenantId: 'acme-corp', priority: 'high' },
        taskFunction: async () => {},
      });
      task.setLabel('region', 'eu-west');
      expect(task.getLabel('userId')).toBe('u-42');
      expect(task.getLabel('missing')).toBeUndefined();
      expect(task.hasLabel('tenantId', 'acme-corp')).toBe(true);
      expect(task.hasLabel('tenantId', 'globex')).toBe(false);
      expect(task.hasLabel('tenantId')).toBe(true);
      expect(task.removeLabel('priority')).toBe(true);
      expect(task.removeLabel('priority')).toBe(false);
      expect(task.getMetadata().labels).toEqual({ userId: 'u-42', tenantId: 'acme-corp', region: 'eu-west' });
    });

    it('does not share the labels object given to the constructor or handed out in metadata', () => {
      const labels = { tenantId: 'acme' };
      const task = new Task({ labels, taskFunction: async () => {} });
      labels.tenantId = 'changed';
      const metadata = task.getMetadata();
      metadata.labels.tenantId = 'mutated';
      expect(task.getLabel('tenantId')).toBe('acme');
    });

    it('refuses the label key __proto__ and keeps labels plain data', () => {
      const task = new Task({ taskFunction: async () => {} });
      expect(() => task.setLabel('__proto__', 'x')).toThrow(TypeError);
      expect(() => task.setLabel('__proto__', 'x')).toThrow('Expected `key` to be a label name other than `"__proto__"`');
      expect(Object.getPrototypeOf(task.labels)).toBe(Object.prototype);
      const fromJson = JSON.parse('{"__proto__": "x", "tenantId": "acme"}') as Record<string, string>;
      expect(() => new Task({ taskFunction: async () => {}, labels: fromJson })).toThrow(
        'Expected `labels` to be an object of string values without the key `"__proto__"`',
      );
      task.setLabel('constructor', 'c');
      expect(task.getLabel('constructor')).toBe('c');
      expect(task.getMetadata().labels).toEqual({ constructor: 'c' });
    });

    it('does not treat inherited properties as labels', () => {
      const task = new Task({ taskFunction: async () => {} });
      expect(task.hasLabel('toString')).toBe(false);
      expect(task.getLabel('constructor')).toBeUndefined();
    });
  });

  describe('eventSubject', () => {
    it('emits started, step and completed with metadata snapshots (spec example)', async () => {
      const task = new Task({
        name: 'DataSync',
        labels: { tenantId: 'acme' },
        steps: [
          { name: 'fetch', description: 'Fetching data', percentage: 50 },
          { name: 'save', description: 'Saving data', percentage: 50 },
        ] as const,
        taskFunction: async () => {
          task.notifyStep('fetch');
          await tick();
          task.notifyStep('save');
        },
      });
      const events: ITaskEvent[] = [];
      task.eventSubject.subscribe((event) => events.push(event));
      const before = Date.now();
      await task.trigger();
      expect(events.map((event) => [event.type, event.stepName])).toEqual([
        ['started', undefined],
        ['step', 'fetch'],
        ['step', 'save'],
        ['completed', undefined],
      ]);
      for (const event of events) {
        expect(event.task.name).toBe('DataSync');
        expect(event.task.labels).toEqual({ tenantId: 'acme' });
        expect(event.timestamp).toBeGreaterThanOrEqual(before);
      }
      expect(events[0]!.task.status).toBe('running');
      expect(events[2]!.task.currentProgress).toBe(50);
      expect(events[3]!.task.status).toBe('completed');
      expect(events[3]!.task.currentProgress).toBe(100);
      expect(events[3]!.task.runCount).toBe(1);
    });

    it('reports 100 progress on the completed event of a task without steps', async () => {
      const task = new Task({ name: 'plain', taskFunction: async () => {} });
      const progress: number[] = [];
      task.eventSubject.subscribe((event) => progress.push(event.task.currentProgress));
      await task.trigger();
      expect(progress).toEqual([0, 100]);
    });

    it('emits failed with the error message', async () => {
      const task = new Task({
        name: 'RiskyOp',
        taskFunction: async () => {
          throw new Error('something broke');
        },
      });
      const events: ITaskEvent[] = [];
      task.eventSubject.subscribe((event) => events.push(event));
      await expect(task.trigger()).rejects.toThrow('something broke');
      expect(events.map((event) => event.type)).toEqual(['started', 'failed']);
      expect(events[1]!.error).toBe('something broke');
      expect(events[1]!.task.status).toBe('failed');
      expect(events[1]!.task.lastError).toBe('something broke');
    });

    it('takes each snapshot at emission time', async () => {
      const task = new Task({ name: 'snap', taskFunction: async () => {} });
      const statuses: string[] = [];
      task.eventSubject.subscribe((event) => statuses.push(event.task.status));
      await task.trigger();
      await task.trigger();
      expect(statuses).toEqual(['running', 'completed', 'running', 'completed']);
    });

    it('builds no snapshot when nobody listens', async () => {
      const task = new Task({ taskFunction: async () => {} });
      const spy = vi.spyOn(task, 'getMetadata');
      await task.trigger();
      expect(spy).not.toHaveBeenCalled();
      const subscription = task.eventSubject.subscribe(() => {});
      await task.trigger();
      expect(spy).toHaveBeenCalledTimes(2);
      subscription.unsubscribe();
      await task.trigger();
      expect(spy).toHaveBeenCalledTimes(2);
    });
  });

  describe('error handling', () => {
    it('rejects by default with the thrown error', async () => {
      const error = new Error('something broke');
      const task = new Task({
        name: 'RiskyOp',
        taskFunction: async () => {
          throw error;
        },
      });
      await expect(task.trigger()).rejects.toBe(error);
    });

    it('rejects when a synchronous task function throws', async () => {
      const task = new Task({
        taskFunction: () => {
          throw new Error('sync');
        },
      });
      await expect(task.trigger()).rejects.toThrow('sync');
    });

    it('resolves undefined with catchErrors and still tracks the error', async () => {
      const task = new Task({
        name: 'BestEffort',
        catchErrors: true,
        taskFunction: async () => {
          throw new Error('non-critical');
        },
      });
      await expect(task.trigger()).resolves.toBeUndefined();
      expect(task.lastError?.message).toBe('non-critical');
      expect(task.errorCount).toBe(1);
      expect(task.getMetadata().status).toBe('failed');
    });

    it('counts errors across runs, clears lastError on success and on clearError()', async () => {
      let fail = true;
      const task = new Task({
        catchErrors: true,
        taskFunction: async () => {
          if (fail) throw new Error('boom');
          return 'ok';
        },
      });
      await task.trigger();
      await task.trigger();
      expect(task.errorCount).toBe(2);
      task.clearError();
      expect(task.lastError).toBeUndefined();
      expect(task.errorCount).toBe(2);
      await task.trigger();
      expect(task.lastError).toBeInstanceOf(Error);
      fail = false;
      await expect(task.trigger()).resolves.toBe('ok');
      expect(task.lastError).toBeUndefined();
      expect(task.errorCount).toBe(3);
      expect(task.runCount).toBe(4);
      expect(task.getMetadata().status).toBe('completed');
    });

    it('rejects with a thrown string wrapped in an Error whose cause is the string', async () => {
      const task = new Task({
        taskFunction: async () => {
          throw 'plain string';
        },
      });
      const error = await task.trigger().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toBe('plain string');
      expect((error as Error).cause).toBe('plain string');
      expect(task.lastError).toBe(error);
    });

    const throwingToString = {
      toString() {
        throw new Error('no string for you');
      },
    };
    const oddValues: Array<[string, unknown]> = [
      ['Object.create(null)', Object.create(null)],
      ['an object whose toString throws', throwingToString],
      ['undefined', undefined],
      ['null', null],
      ['a number', 42],
      ['a symbol', Symbol('odd')],
      ['a string', 'odd'],
    ];

    for (const [label, value] of oddValues) {
      for (const [path, extra] of [
        ['plain', {}],
        ['guarded', { timeout: 60_000 }],
      ] as const) {
        it(`counts ${label} thrown by a ${path} run as a failure, as an Error with the value as cause`, async () => {
          const events: ITaskEvent[] = [];
          const task = new Task({
            ...extra,
            name: 'odd',
            taskFunction: () => {
              throw value;
            },
          });
          task.eventSubject.subscribe((event) => events.push(event));
          const error = await task.trigger().catch((caught: unknown) => caught);
          expect(error).toBeInstanceOf(Error);
          expect((error as Error).cause).toBe(value);
          expect(typeof (error as Error).message).toBe('string');
          expect(task.status).toBe('failed');
          expect(task.errorCount).toBe(1);
          expect(task.lastError).toBe(error);
          expect(events.map((event) => event.type)).toEqual(['started', 'failed']);
          expect(events[1]?.error).toBe((error as Error).message);
        });

        it(`resolves undefined with catchErrors when a ${path} run throws ${label}`, async () => {
          const task = new Task({
            ...extra,
            catchErrors: true,
            taskFunction: async () => {
              throw value;
            },
          });
          await expect(task.trigger()).resolves.toBeUndefined();
          expect(task.status).toBe('failed');
          expect(task.errorCount).toBe(1);
          expect(task.lastError?.cause).toBe(value);
        });
      }
    }
  });

  describe('timeout and signal', () => {
    it('rejects with TaskTimeoutError and aborts the run signal', async () => {
      vi.useFakeTimers();
      let signal: AbortSignal | undefined;
      const task = new Task({
        name: 'slow',
        timeout: 100,
        taskFunction: (_input, _setup, context) => {
          signal = context.signal;
          return new Promise((resolve) => context.signal.addEventListener('abort', () => resolve('late')));
        },
      });
      const run = task.trigger();
      const assertion = expect(run).rejects.toBeInstanceOf(TaskTimeoutError);
      await vi.advanceTimersByTimeAsync(100);
      await assertion;
      await expect(run).rejects.toThrow('Task "slow" timed out after 100 ms');
      expect(signal?.aborted).toBe(true);
      expect(signal?.reason).toBeInstanceOf(TaskTimeoutError);
      expect(task.lastError).toBeInstanceOf(TaskTimeoutError);
    });

    it('does not time out a run that finishes in time', async () => {
      vi.useFakeTimers();
      const task = new Task({
        timeout: 100,
        taskFunction: () => new Promise((resolve) => setTimeout(() => resolve('done'), 50)),
      });
      const run = task.trigger();
      await vi.advanceTimersByTimeAsync(50);
      await expect(run).resolves.toBe('done');
      await vi.advanceTimersByTimeAsync(100);
      expect(task.errorCount).toBe(0);
    });

    it('stays running and calls onFinished only once a timed-out function really returns', async () => {
      vi.useFakeTimers();
      const gate = deferred();
      const task = new Task({ timeout: 10, taskFunction: () => gate.promise });
      const onFinished = vi.fn();
      const run = task.trigger(undefined, { onFinished });
      const assertion = expect(run).rejects.toBeInstanceOf(TaskTimeoutError);
      await vi.advanceTimersByTimeAsync(10);
      await assertion;
      expect(task.running).toBe(true);
      expect(onFinished).not.toHaveBeenCalled();
      gate.resolve();
      await vi.advanceTimersByTimeAsync(0);
      expect(task.running).toBe(false);
      expect(onFinished).toHaveBeenCalledTimes(1);
    });

    it('rejects with TaskAbortedError when the caller aborts, and aborts the run signal', async () => {
      const controller = new AbortController();
      let runSignal: AbortSignal | undefined;
      const started = deferred();
      const task = new Task({
        name: 'cancellable',
        taskFunction: (_input, _setup, context) => {
          runSignal = context.signal;
          started.resolve();
          return new Promise(() => {});
        },
      });
      const run = task.trigger(undefined, { signal: controller.signal });
      await started.promise;
      controller.abort(new Error('user cancelled'));
      await expect(run).rejects.toBeInstanceOf(TaskAbortedError);
      expect(runSignal?.aborted).toBe(true);
    });

    it('does not run at all when the signal is already aborted', async () => {
      const taskFunction = vi.fn(async () => {});
      const task = new Task({ taskFunction });
      await expect(task.trigger(undefined, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(
        TaskAbortedError,
      );
      expect(taskFunction).not.toHaveBeenCalled();
    });

    it('calls onFinished once after a normal run', async () => {
      const onFinished = vi.fn();
      const task = new Task({ taskFunction: async () => 1 });
      await task.trigger(undefined, { onFinished });
      expect(onFinished).toHaveBeenCalledTimes(1);
    });
  });

  describe('timeout and signal over the whole run', () => {
    it('times out a run whose taskSetup hangs, and never calls the function', async () => {
      vi.useFakeTimers();
      const taskFunction = vi.fn(async () => 'ran');
      const task = new Task({ name: 'setup-hangs', timeout: 20, taskSetup: () => new Promise<void>(() => {}), taskFunction });
      const run = task.trigger();
      const assertion = expect(run).rejects.toBeInstanceOf(TaskTimeoutError);
      await vi.advanceTimersByTimeAsync(20);
      await assertion;
      expect(taskFunction).not.toHaveBeenCalled();
      expect(task.getMetadata().status).toBe('failed');
    });

    it('times out a run whose preTask hangs, and aborts the preTask', async () => {
      vi.useFakeTimers();
      let preSignal: AbortSignal | undefined;
      const taskFunction = vi.fn(async () => 'ran');
      const task = new Task({
        name: 'pre-hangs',
        timeout: 20,
        preTask: new Task({
          taskFunction: (_input, _setup, context) => {
            preSignal = context.signal;
            return new Promise(() => {});
          },
        }),
        taskFunction,
      });
      const run = task.trigger();
      const assertion = expect(run).rejects.toBeInstanceOf(TaskTimeoutError);
      await vi.advanceTimersByTimeAsync(20);
      await assertion;
      expect(preSignal?.aborted).toBe(true);
      expect(taskFunction).not.toHaveBeenCalled();
    });

    it('does not run the function when the caller aborts during taskSetup', async () => {
      let finishSetup!: () => void;
      const taskFunction = vi.fn(async () => 'ran');
      const task = new Task({ taskSetup: () => new Promise<void>((resolve) => (finishSetup = resolve)), taskFunction });
      const controller = new AbortController();
      const onFinished = vi.fn();
      const run = task.trigger(undefined, { signal: controller.signal, onFinished });
      controller.abort();
      await expect(run).rejects.toBeInstanceOf(TaskAbortedError);
      expect(onFinished).not.toHaveBeenCalled();
      finishSetup();
      await vi.waitFor(() => expect(onFinished).toHaveBeenCalledTimes(1));
      expect(taskFunction).not.toHaveBeenCalled();
      expect(task.running).toBe(false);
    });

    it('never runs attempts side by side: a timeout ends the run, retries included', async () => {
      vi.useFakeTimers();
      let running = 0;
      let peak = 0;
      let calls = 0;
      const task = new Task({
        timeout: 20,
        retry: { retries: 3 },
        taskFunction: async () => {
          calls++;
          running++;
          peak = Math.max(peak, running);
          await new Promise((resolve) => setTimeout(resolve, 100));
          running--;
        },
      });
      const onFinished = vi.fn();
      const run = task.trigger(undefined, { onFinished });
      const assertion = expect(run).rejects.toBeInstanceOf(TaskTimeoutError);
      await vi.advanceTimersByTimeAsync(20);
      await assertion;
      expect(onFinished).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(500);
      expect(calls).toBe(1);
      expect(peak).toBe(1);
      expect(onFinished).toHaveBeenCalledTimes(1);
    });

    it('stops waiting out a retry backoff when the caller aborts', async () => {
      vi.useFakeTimers();
      let calls = 0;
      const task = new Task({
        retry: { retries: 5, backoffMs: 1_000 },
        taskFunction: async () => {
          calls++;
          throw new Error('flaky');
        },
      });
      const controller = new AbortController();
      const run = task.trigger(undefined, { signal: controller.signal });
      const assertion = expect(run).rejects.toBeInstanceOf(TaskAbortedError);
      await vi.advanceTimersByTimeAsync(10);
      controller.abort();
      await assertion;
      await vi.advanceTimersByTimeAsync(60_000);
      expect(calls).toBe(1);
      expect(vi.getTimerCount()).toBe(0);
    });
  });

  describe('retry', () => {
    it('retries with exponential backoff and shows every attempt in events', async () => {
      vi.useFakeTimers();
      const attempts: number[] = [];
      const task = new Task({
        name: 'flaky',
        retry: { retries: 3, backoffMs: 100, factor: 2 },
        taskFunction: async (_input, _setup, context) => {
          attempts.push(context.attempt);
          if (context.attempt < 2) throw new Error(`attempt ${context.attempt} failed`);
          return 'finally';
        },
      });
      const events: ITaskEvent[] = [];
      task.eventSubject.subscribe((event) => events.push(event));
      const run = task.trigger();
      await vi.advanceTimersByTimeAsync(99);
      expect(attempts).toEqual([0]);
      await vi.advanceTimersByTimeAsync(1);
      expect(attempts).toEqual([0, 1]);
      await vi.advanceTimersByTimeAsync(199);
      expect(attempts).toEqual([0, 1]);
      await vi.advanceTimersByTimeAsync(1);
      await expect(run).resolves.toBe('finally');
      expect(events.map((event) => [event.type, event.attempt, event.error])).toEqual([
        ['started', undefined, undefined],
        ['retry', 1, 'attempt 0 failed'],
        ['retry', 2, 'attempt 1 failed'],
        ['completed', undefined, undefined],
      ]);
      expect(task.errorCount).toBe(0);
    });

    it('fails with the last error once retries are used up', async () => {
      let calls = 0;
      const task = new Task({
        retry: { retries: 2 },
        taskFunction: async () => {
          calls++;
          throw new Error(`failure ${calls}`);
        },
      });
      await expect(task.trigger()).rejects.toThrow('failure 3');
      expect(calls).toBe(3);
      expect(task.errorCount).toBe(1);
    });
  });

  describe('taskSetup', () => {
    it('runs once and passes its value as the second argument (spec example)', async () => {
      const createPool = vi.fn(async () => ({ query: async (sql: string) => `rows of ${sql}` }));
      const task = new Task({
        name: 'DBQuery',
        taskSetup: createPool,
        taskFunction: async (input, pool) => pool.query(input),
      });
      await expect(task.trigger('SELECT * FROM users')).resolves.toBe('rows of SELECT * FROM users');
      await expect(task.trigger('SELECT * FROM orders')).resolves.toBe('rows of SELECT * FROM orders');
      expect(createPool).toHaveBeenCalledTimes(1);
    });

    it('runs once for concurrent first triggers', async () => {
      const gate = deferred<number>();
      const setup = vi.fn(() => gate.promise);
      const task = new Task({ taskSetup: setup, taskFunction: async (input: number, base) => base + input });
      const runs = [task.trigger(1), task.trigger(2), task.trigger(3)];
      gate.resolve(10);
      await expect(Promise.all(runs)).resolves.toEqual([11, 12, 13]);
      expect(setup).toHaveBeenCalledTimes(1);
    });

    it('tries a failed setup again on the next run', async () => {
      let calls = 0;
      const task = new Task({
        taskSetup: async () => {
          calls++;
          if (calls === 1) throw new Error('setup failed');
          return 'ready';
        },
        taskFunction: async (_input, value) => value,
      });
      await expect(task.trigger()).rejects.toThrow('setup failed');
      await expect(task.trigger()).resolves.toBe('ready');
      expect(calls).toBe(2);
    });
  });

  describe('preTask and afterTask', () => {
    it('runs the pre task, the task and the after task in order (spec example)', async () => {
      const log: string[] = [];
      const mainTask = new Task({
        name: 'MainWork',
        preTask: new Task({ name: 'Setup', taskFunction: async () => void log.push('Setting up...') }),
        afterTask: new Task({ name: 'Cleanup', taskFunction: async () => void log.push('Cleaning up...') }),
        taskFunction: async () => {
          log.push('Doing work...');
          return 'done';
        },
      });
      await expect(mainTask.trigger()).resolves.toBe('done');
      expect(log).toEqual(['Setting up...', 'Doing work...', 'Cleaning up...']);
    });

    it('accepts functions returning tasks, and passes input and result along', async () => {
      const pre = new Task({ taskFunction: vi.fn(async (input: string) => `pre ${input}`) });
      const after = new Task({ taskFunction: vi.fn(async (result: string) => `after ${result}`) });
      const task = new Task({
        preTask: () => pre,
        afterTask: () => after,
        taskFunction: async (input: string) => input.toUpperCase(),
      });
      await expect(task.trigger('x')).resolves.toBe('X');
      expect(pre.taskFunction).toHaveBeenCalledWith('x', undefined, expect.anything());
      expect(after.taskFunction).toHaveBeenCalledWith('X', undefined, expect.anything());
    });

    it('runs the pre task before the one-time setup', async () => {
      const log: string[] = [];
      const task = new Task({
        preTask: new Task({ taskFunction: async () => void log.push('pre') }),
        taskSetup: async () => void log.push('setup'),
        taskFunction: async () => void log.push('run'),
      });
      await task.trigger();
      await task.trigger();
      expect(log).toEqual(['pre', 'setup', 'run', 'pre', 'run']);
    });

    it('refuses an assignment that closes a cycle of hooks, naming the cycle', async () => {
      const a = new Task({ name: 'a', taskFunction: async () => 'a' });
      const b = new Task({ name: 'b', taskFunction: async () => 'b' });
      a.afterTask = b;
      let error: unknown;
      try {
        b.afterTask = a;
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(TaskHookError);
      expect((error as TaskHookError).message).toBe('The hooks of task "b" form a cycle: b → a → b');
      expect((error as TaskHookError).paths).toEqual([['b', 'a', 'b']]);
      expect(b.afterTask).toBeUndefined();
      await expect(a.trigger()).resolves.toBe('a');
      expect(() => {
        a.preTask = a;
      }).toThrow('form a cycle: a → a');
    });

    it('fails the run before any hook starts when hooks given as functions form a cycle', async () => {
      const ran: string[] = [];
      // Without the check this would recurse until the guard below stops it.
      const guard = () => {
        if (ran.length > 20) throw new Error('ran away');
      };
      const a: Task = new Task({
        name: 'a',
        afterTask: () => b,
        taskFunction: async () => {
          guard();
          ran.push('a');
        },
      });
      const b: Task = new Task({
        name: 'b',
        afterTask: () => a,
        taskFunction: async () => {
          guard();
          ran.push('b');
        },
      });
      const error = await a.trigger().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(TaskHookError);
      expect((error as Error).message).toBe('The hooks of task "a" form a cycle: a → b → a');
      expect(ran).toEqual([]);
      expect(a.status).toBe('failed');
      expect(a.errorCount).toBe(1);
    });

    it('checks again at the next trigger once a hook somewhere down the line changed', async () => {
      const ran: string[] = [];
      const a = new Task({ name: 'a', taskFunction: async () => void ran.push('a') });
      const b = new Task({
        name: 'b',
        taskFunction: async () => {
          if (ran.length > 20) throw new Error('ran away');
          ran.push('b');
        },
      });
      a.afterTask = b;
      await a.trigger();
      expect(ran).toEqual(['a', 'b']);
      b.afterTask = () => a;
      await expect(a.trigger()).rejects.toThrow('form a cycle: a → b → a');
      expect(ran).toEqual(['a', 'b']);
    });

    it('refuses hooks that reach one task twice, naming both paths', () => {
      const d = new Task({ name: 'd', taskFunction: async () => {} });
      const b = new Task({ name: 'b', afterTask: d, taskFunction: async () => {} });
      const c = new Task({ name: 'c', afterTask: d, taskFunction: async () => {} });
      let error: unknown;
      try {
        new Task({ name: 'a', preTask: b, afterTask: c, taskFunction: async () => {} });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(TaskHookError);
      expect((error as TaskHookError).paths).toEqual([
        ['a', 'b', 'd'],
        ['a', 'c', 'd'],
      ]);
      expect((error as Error).message).toContain('Task "d" is reached twice through the hooks of "a": a → b → d and a → c → d');
      const log = new Task({ name: 'log', taskFunction: async () => {} });
      expect(() => new Task({ name: 'main', preTask: log, afterTask: log, taskFunction: async () => {} })).toThrow(
        'Task "log" is reached twice through the hooks of "main": main → log and main → log',
      );
    });

    it('lets several tasks share one hook task', async () => {
      const cleanup = new Task({ name: 'cleanup', taskFunction: vi.fn(async () => {}) });
      const x = new Task({ name: 'x', afterTask: cleanup, taskFunction: async () => 'x' });
      const y = new Task({ name: 'y', afterTask: () => cleanup, taskFunction: async () => 'y' });
      await expect(Promise.all([x.trigger(), y.trigger()])).resolves.toEqual(['x', 'y']);
      expect(cleanup.taskFunction).toHaveBeenCalledTimes(2);
    });

    it('does not run the task when the pre task fails', async () => {
      const taskFunction = vi.fn(async () => {});
      const task = new Task({
        preTask: new Task({
          taskFunction: async () => {
            throw new Error('pre failed');
          },
        }),
        taskFunction,
      });
      await expect(task.trigger()).rejects.toThrow('pre failed');
      expect(taskFunction).not.toHaveBeenCalled();
    });
  });

  describe('buffering', () => {
    it('runs at most bufferMax at once and queues the rest (spec example)', async () => {
      let running = 0;
      let peak = 0;
      const apiTask = new Task({
        name: 'APIRequest',
        buffered: true,
        bufferMax: 5,
        taskFunction: async (endpoint: string) => {
          running++;
          peak = Math.max(peak, running);
          await tick();
          running--;
          return endpoint;
        },
      });
      const calls = Array.from({ length: 100 }, (_, i) => apiTask.trigger(`/api/data/${i}`));
      const results = await Promise.all(calls);
      expect(peak).toBe(5);
      // 5 ran at once, 5 waited; every later call replaced the newest waiting one.
      expect(results.slice(0, 9)).toEqual(Array.from({ length: 9 }, (_, i) => `/api/data/${i}`));
      expect(new Set(results.slice(9))).toEqual(new Set(['/api/data/99']));
      expect(apiTask.runCount).toBe(10);
    });

    it('lets a replaced caller reject with the error of the run that replaced it', async () => {
      const gate = deferred();
      const task = new Task({
        buffered: true,
        bufferMax: 1,
        taskFunction: async (input: string) => {
          await gate.promise;
          if (input === 'bad') throw new Error('bad input');
          return input;
        },
      });
      const first = task.trigger('first');
      const replaced = task.trigger('replaced');
      const replacing = task.trigger('bad');
      gate.resolve();
      await expect(first).resolves.toBe('first');
      await expect(replaced).rejects.toThrow('bad input');
      await expect(replacing).rejects.toThrow('bad input');
    });

    it('keeps a place taken until a timed-out function really returns', async () => {
      vi.useFakeTimers();
      let running = 0;
      let peak = 0;
      const task = new Task({
        buffered: true,
        bufferMax: 1,
        timeout: 20,
        catchErrors: true,
        taskFunction: async () => {
          running++;
          peak = Math.max(peak, running);
          await new Promise((resolve) => setTimeout(resolve, 100));
          running--;
        },
      });
      const runs = [task.trigger(1), task.trigger(2)];
      await vi.advanceTimersByTimeAsync(1_000);
      await Promise.all(runs);
      expect(peak).toBe(1);
      expect(task.runCount).toBe(2);
    });

    it('lets an aborted waiting caller go without touching the others, once', async () => {
      const gate = deferred();
      const seen: string[] = [];
      const task = new Task({
        buffered: true,
        bufferMax: 1,
        taskFunction: async (input: string) => {
          seen.push(input);
          await gate.promise;
          return input;
        },
      });
      const controller = new AbortController();
      const onFinished = vi.fn();
      const first = task.trigger('a');
      const waiting = task.trigger('b');
      const replacing = task.trigger('c', { signal: controller.signal, onFinished });
      controller.abort();
      await expect(replacing).rejects.toBeInstanceOf(TaskAbortedError);
      gate.resolve();
      await expect(first).resolves.toBe('a');
      // The aborted caller took its input with it: the waiting call runs with its own.
      await expect(waiting).resolves.toBe('b');
      expect(seen).toEqual(['a', 'b']);
      expect(onFinished).toHaveBeenCalledTimes(1);
    });

    it('removes the abort listener of a waiting caller once its call runs', async () => {
      const gate = deferred();
      const task = new Task({ buffered: true, bufferMax: 1, taskFunction: async (input: string) => (await gate.promise, input) });
      const controller = new AbortController();
      const onFinished = vi.fn();
      const first = task.trigger('a');
      const second = task.trigger('b', { signal: controller.signal, onFinished });
      gate.resolve();
      await expect(first).resolves.toBe('a');
      await expect(second).resolves.toBe('b');
      controller.abort();
      await tick();
      expect(onFinished).toHaveBeenCalledTimes(1);
    });

    it('rejects an already aborted trigger without replacing a waiting call', async () => {
      const gate = deferred();
      const task = new Task({ buffered: true, bufferMax: 1, taskFunction: async (input: string) => (await gate.promise, input) });
      const first = task.trigger('a');
      const waiting = task.trigger('b');
      await expect(task.trigger('c', { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(TaskAbortedError);
      gate.resolve();
      await expect(first).resolves.toBe('a');
      await expect(waiting).resolves.toBe('b');
    });

    it('defaults bufferMax to 1 and reports buffering in metadata', () => {
      const task = new Task({ buffered: true, taskFunction: async () => {} });
      expect(task.bufferMax).toBe(1);
      expect(task.getMetadata()).toMatchObject({ buffered: true, bufferMax: 1 });
    });

    it('rejects a waiting caller whose signal aborts, and keeps the others', async () => {
      const gate = deferred();
      const task = new Task({
        buffered: true,
        bufferMax: 1,
        taskFunction: async (input: string) => {
          await gate.promise;
          return input;
        },
      });
      const controller = new AbortController();
      const first = task.trigger('a');
      const waiting = task.trigger('b', { signal: controller.signal });
      controller.abort();
      await expect(waiting).rejects.toBeInstanceOf(TaskAbortedError);
      const later = task.trigger('c');
      gate.resolve();
      await expect(first).resolves.toBe('a');
      await expect(later).resolves.toBe('c');
      expect(task.runCount).toBe(2);
    });
  });
});
