import { afterEach, describe, expect, it, vi } from 'vitest';
import { InMemoryCoordinator } from './distributed-coordination.js';
import { TaskAbortedError, TaskCancelledError } from './errors.js';
import type {
  AnyTask,
  ConstraintEngineHost,
  ConstraintEnginePort,
  ConstraintGroupPort,
  ScheduledTick,
  SchedulerHost,
  SchedulerPort,
} from './ports.js';
import { Task } from './task.js';
import { TaskDebounced } from './task-debounced.js';
import { TaskManager, type TaskManagerState } from './task-manager.js';
import { TaskOnce } from './task-once.js';
import { Taskchain } from './taskchain.js';
import type { ITaskEvent, ITaskRunContext } from './types.js';

interface Gate {
  promise: Promise<void>;
  open: () => void;
}

/** A promise the test settles. */
function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** Whether `promise` has settled after the pending callbacks of this turn ran. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  for (let turn = 0; turn < 20; turn++) await Promise.resolve();
  return done;
}

class ManualScheduler implements SchedulerPort {
  host: SchedulerHost | undefined;
  readonly schedules = new Map<string, string>();
  schedule(taskName: string, expression: string): void {
    this.schedules.set(taskName, expression);
  }
  unschedule(taskName: string): boolean {
    return this.schedules.delete(taskName);
  }
  start(host: SchedulerHost): void {
    this.host = host;
  }
  stop(): void {}
  getScheduledTasks() {
    return [];
  }
  getNextScheduledRuns() {
    return [];
  }
  getSchedule() {
    return undefined;
  }
  fire(taskName: string, tick: ScheduledTick): Promise<void> {
    return this.host!.runScheduledTask(taskName, tick);
  }
}

interface Waiter {
  task: AnyTask;
  input: unknown;
  options: { signal?: AbortSignal } | undefined;
  resolve: (value: Promise<unknown>) => void;
}

/** One run at a time, first come first served: enough of an engine to hold triggers in line. */
class OneAtATimeEngine implements ConstraintEnginePort {
  readonly #host: ConstraintEngineHost;
  readonly line: Waiter[] = [];
  #running = 0;
  constructor(host: ConstraintEngineHost) {
    this.#host = host;
  }
  addGroup(): void {}
  removeGroup(): void {}
  get waiting(): number {
    return this.line.length;
  }
  run(task: AnyTask, input: unknown, options?: { signal?: AbortSignal }): Promise<unknown> {
    if (options?.signal?.aborted) return Promise.reject(new TaskAbortedError(task.name, options.signal.reason));
    if (this.#running === 0) return this.#start(task, input, options);
    return new Promise((resolve) => this.line.push({ task, input, options, resolve }));
  }
  #start(task: AnyTask, input: unknown, options: { signal?: AbortSignal } | undefined): Promise<unknown> {
    this.#running++;
    return this.#host.execute(task, input, () => {
      this.#running--;
      const next = this.line.shift();
      if (next !== undefined) next.resolve(this.#start(next.task, next.input, next.options));
    }, options);
  }
  stop(reason: string): void {
    for (const waiter of this.line.splice(0)) {
      waiter.resolve(Promise.reject(new TaskCancelledError(waiter.task.name, reason)));
    }
    this.#host.left?.();
  }
}

class OneAtATime implements ConstraintGroupPort {
  readonly name = 'one-at-a-time';
  readonly maxConcurrent = 1;
  readonly cooldownMs = 0;
  engine: OneAtATimeEngine | undefined;
  createConstraintEngine(host: ConstraintEngineHost): ConstraintEnginePort {
    this.engine = new OneAtATimeEngine(host);
    return this.engine;
  }
}

/** A task whose runs wait for the test; `signals` collects each run's signal. */
function gatedTask(name: string, options: { readSignal?: boolean; timeout?: number } = {}) {
  const gates: Gate[] = [];
  const contexts: ITaskRunContext[] = [];
  const ended: string[] = [];
  const task = new Task({
    name,
    timeout: options.timeout,
    taskFunction: async (input: unknown, _setup, context) => {
      contexts.push(context);
      const run = gate();
      gates.push(run);
      if (options.readSignal) {
        const signal = context.signal;
        await Promise.race([
          run.promise,
          new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true })),
        ]);
      } else {
        await run.promise;
      }
      ended.push(String(input));
      return input;
    },
  });
  return { task, gates, contexts, ended };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('TaskManager', () => {
  describe('stop', () => {
    it('waits for the runs under way, forwarding their events until the last one has ended', async () => {
      const manager = new TaskManager();
      const { task, gates } = gatedTask('slow');
      manager.addTask(task);
      const events: string[] = [];
      manager.taskSubject.subscribe((event) => events.push(event.type));
      const states: TaskManagerState[] = [];
      manager.stateChanges.subscribe((state) => states.push(state));
      const runs = [manager.triggerTask(task, 'a'), manager.triggerTask(task, 'b')];
      const stopping = manager.stop();
      expect(manager.state).toBe('stopping');
      expect(manager.running).toBe(2);
      gates[0]!.open();
      expect(await settled(stopping)).toBe(false);
      gates[1]!.open();
      await stopping;
      await expect(Promise.all(runs)).resolves.toEqual(['a', 'b']);
      expect(events).toEqual(['started', 'started', 'completed', 'completed']);
      expect(states).toEqual(['new', 'stopping', 'stopped']);
      expect(manager.running).toBe(0);
    });

    it('returns the same promise to a second call while it drains', async () => {
      const manager = new TaskManager();
      const { task, gates } = gatedTask('slow');
      manager.addTask(task);
      void manager.triggerTask(task);
      const first = manager.stop();
      expect(manager.stop({ timeoutMs: 5 })).toBe(first);
      gates[0]!.open();
      await first;
      expect(manager.state).toBe('stopped');
    });

    it('with timeoutMs: 0 returns at once and lets the runs under way go on', async () => {
      const manager = new TaskManager();
      const { task, gates, contexts } = gatedTask('slow', { readSignal: true });
      manager.addTask(task);
      const run = manager.triggerTask(task, 'x');
      await manager.stop({ timeoutMs: 0 });
      expect(task.running).toBe(true);
      expect(contexts[0]!.signal.aborted).toBe(false);
      gates[0]!.open();
      await expect(run).resolves.toBe('x');
    });

    it('at the timeout aborts the signals of the runs under way with TaskCancelledError and waits for them', async () => {
      vi.useFakeTimers();
      const manager = new TaskManager();
      const { task, contexts } = gatedTask('honours-signal', { readSignal: true });
      manager.addTask(task);
      const run = manager.triggerTask(task);
      const outcome = run.catch((error: unknown) => error);
      const stopping = manager.stop({ timeoutMs: 5_000 });
      await vi.advanceTimersByTimeAsync(4_999);
      expect(contexts[0]!.signal.aborted).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect(contexts[0]!.signal.reason).toBeInstanceOf(TaskCancelledError);
      expect(await outcome).toBeInstanceOf(TaskCancelledError);
      await stopping;
      expect(task.running).toBe(false);
    });

    it('gives a run that reads its signal only after the abort a signal that is already aborted', async () => {
      vi.useFakeTimers();
      const manager = new TaskManager();
      const { task, gates, contexts } = gatedTask('late-reader');
      manager.addTask(task);
      const run = manager.triggerTask(task, 'late');
      const stopping = manager.stop({ timeoutMs: 100 });
      await vi.advanceTimersByTimeAsync(100);
      expect(contexts[0]!.signal.aborted).toBe(true);
      expect(contexts[0]!.signal.reason).toBeInstanceOf(TaskCancelledError);
      gates[0]!.open();
      await stopping;
      await expect(run).resolves.toBe('late');
    });

    it('rejects the trigger of a task with a timeout at once when it aborts the run', async () => {
      vi.useFakeTimers();
      const manager = new TaskManager();
      const { task, gates } = gatedTask('guarded', { timeout: 60_000 });
      manager.addTask(task);
      const run = manager.triggerTask(task);
      const outcome = run.catch((error: unknown) => error);
      const stopping = manager.stop({ timeoutMs: 100 });
      await vi.advanceTimersByTimeAsync(100);
      expect(await outcome).toBeInstanceOf(TaskCancelledError);
      // The run is still under way until its function returns.
      expect(await settled(stopping)).toBe(false);
      gates[0]!.open();
      await stopping;
    });

    it('waits at most 1 s for a run that ignores its signal, then stops anyway', async () => {
      vi.useFakeTimers();
      const manager = new TaskManager();
      const { task, gates } = gatedTask('stubborn');
      manager.addTask(task);
      const events: string[] = [];
      manager.taskSubject.subscribe((event) => events.push(event.type));
      const run = manager.triggerTask(task, 'done later');
      const stopping = manager.stop({ timeoutMs: 200 });
      await vi.advanceTimersByTimeAsync(200 + 999);
      expect(await settled(stopping)).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      await stopping;
      expect(task.running).toBe(true);
      gates[0]!.open();
      await expect(run).resolves.toBe('done later');
      // Forwarding stopped with the manager.
      expect(events).toEqual(['started']);
    });

    it('at the timeout also cancels the calls still waiting in a buffer or a debounce period', async () => {
      vi.useFakeTimers();
      const manager = new TaskManager();
      let started = 0;
      const buffered = new Task({
        name: 'buffered',
        buffered: true,
        bufferMax: 1,
        taskFunction: async (_input: unknown, _setup, { signal }) => {
          started++;
          await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
        },
      });
      const debounced = new TaskDebounced({ name: 'debounced', debounceTimeInMillis: 60_000, taskFunction: vi.fn(async () => 'late') });
      manager.addTask(buffered);
      manager.addTask(debounced);
      const runs = [manager.triggerTask(buffered, 1), manager.triggerTask(buffered, 2), manager.triggerTask(debounced)].map((run) =>
        run.catch((error: unknown) => error),
      );
      expect([manager.running, manager.waiting]).toEqual([1, 2]);
      const stopping = manager.stop({ timeoutMs: 100 });
      await vi.advanceTimersByTimeAsync(100);
      await stopping;
      for (const outcome of await Promise.all(runs)) expect(outcome).toBeInstanceOf(TaskCancelledError);
      expect(started).toBe(1);
      expect(debounced.taskFunction).not.toHaveBeenCalled();
      expect([manager.running, manager.waiting]).toEqual([0, 0]);
    });

    it('aborts the task under way in a Taskchain that is aborted', async () => {
      vi.useFakeTimers();
      const manager = new TaskManager();
      const step = gatedTask('step', { readSignal: true });
      const after = new Task({ name: 'after', taskFunction: vi.fn(async () => 'after') });
      const chain = new Taskchain({ name: 'chain', taskArray: [step.task, after] });
      manager.addTask(chain);
      const run = manager.triggerTask(chain).catch((error: unknown) => error);
      const stopping = manager.stop({ timeoutMs: 100 });
      await vi.advanceTimersByTimeAsync(100);
      await stopping;
      // The chain's own signal aborted with the manager's reason; the step's aborted with it.
      const reason = step.contexts[0]!.signal.reason as TaskAbortedError;
      expect(reason).toBeInstanceOf(TaskAbortedError);
      expect(reason.cause).toBeInstanceOf(TaskCancelledError);
      expect(after.taskFunction).not.toHaveBeenCalled();
      expect(await run).toBeInstanceOf(Error);
    });

    it('rejects the triggers still waiting on a constraint group with TaskCancelledError', async () => {
      const manager = new TaskManager();
      const group = new OneAtATime();
      manager.addConstraintGroup(group);
      const { task, gates } = gatedTask('constrained');
      manager.addTask(task);
      const first = manager.triggerTask(task, 1);
      const second = manager.triggerTask(task, 2);
      expect(manager.waiting).toBe(1);
      const stopping = manager.stop();
      await expect(second).rejects.toBeInstanceOf(TaskCancelledError);
      expect(manager.waiting).toBe(0);
      gates[0]!.open();
      await stopping;
      await expect(first).resolves.toBe(1);
    });

    it('refuses a timeoutMs that is not a number of milliseconds >= 0, as a rejected promise', async () => {
      const manager = new TaskManager();
      for (const timeoutMs of [-1, Number.NaN, '5', null]) {
        const stopping = manager.stop({ timeoutMs: timeoutMs as number });
        await expect(stopping).rejects.toThrow(TypeError);
        await expect(stopping).rejects.toThrow(/`timeoutMs`/);
      }
      await expect(manager.stop('soon' as never)).rejects.toThrow(/`options`/);
      expect(manager.state).toBe('new');
    });
  });

  describe('onIdle', () => {
    it('resolves once nothing runs or waits, and at once when idle', async () => {
      const manager = new TaskManager();
      await manager.onIdle();
      manager.addConstraintGroup(new OneAtATime());
      const { task, gates } = gatedTask('work');
      manager.addTask(task);
      void manager.triggerTask(task, 1);
      void manager.triggerTask(task, 2);
      expect([manager.running, manager.waiting]).toEqual([1, 1]);
      const idle = manager.onIdle();
      gates[0]!.open();
      await vi.waitFor(() => expect(gates).toHaveLength(2));
      expect([manager.running, manager.waiting]).toEqual([1, 0]);
      expect(await settled(idle)).toBe(false);
      gates[1]!.open();
      await idle;
      expect([manager.running, manager.waiting]).toEqual([0, 0]);
    });

    it('resolves when the last waiting trigger leaves the line without running', async () => {
      const manager = new TaskManager();
      const group = new OneAtATime();
      manager.addConstraintGroup(group);
      const { task, gates } = gatedTask('work');
      manager.addTask(task);
      void manager.triggerTask(task, 1);
      const second = manager.triggerTask(task, 2).catch(() => 'left');
      gates[0]!.open();
      // Leaves before it could start: stopped by the engine.
      group.engine!.stop('test');
      await manager.onIdle();
      expect(await second).toBe('left');
    });

    it('counts the calls waiting in a debounce period', async () => {
      vi.useFakeTimers();
      const manager = new TaskManager();
      const task = new TaskDebounced({ name: 'debounced', debounceTimeInMillis: 50, taskFunction: async () => 'ok' });
      manager.addTask(task);
      void manager.triggerTask(task);
      expect(manager.waiting).toBe(1);
      const idle = manager.onIdle();
      await vi.advanceTimersByTimeAsync(50);
      await idle;
      expect(manager.waiting).toBe(0);
    });
  });

  describe('triggerTask, triggerTaskByName, triggerTaskConstrained', () => {
    it('reject bad arguments with a TypeError naming them, before anything starts', async () => {
      const manager = new TaskManager();
      const task = new Task({ name: 'named', taskFunction: vi.fn(async () => 'ran') });
      manager.addTask(task);
      // As JavaScript callers (or `any`) may call them.
      const untyped = manager as unknown as Record<'triggerTask' | 'triggerTaskConstrained', (...args: unknown[]) => Promise<unknown>>;
      const cases: Array<[() => Promise<unknown>, RegExp]> = [
        [() => untyped.triggerTask(undefined), /`task`/],
        [() => untyped.triggerTask('named'), /`task`/],
        [() => untyped.triggerTaskConstrained(null), /`task`/],
        [() => manager.triggerTaskByName(42 as never), /`name`/],
        [() => manager.triggerTask(task, 1, { signal: {} as AbortSignal }), /`signal`/],
        [() => manager.triggerTaskByName('named', 1, { signal: 'abort' as never }), /`signal`/],
        [() => manager.triggerTask(task, 1, 'fast' as never), /`options`/],
      ];
      for (const [call, name] of cases) {
        let promise: Promise<unknown> | undefined;
        expect(() => (promise = call())).not.toThrow();
        await expect(promise).rejects.toThrow(TypeError);
        await expect(promise).rejects.toThrow(name);
      }
      expect(task.taskFunction).not.toHaveBeenCalled();
      expect(task.running).toBe(false);
    });

    it('do not run a trigger whose signal is already aborted, with or without constraint groups', async () => {
      const taskFunction = vi.fn(async () => 'ran');
      const plain = new TaskManager();
      const task = new Task({ name: 'a', taskFunction });
      plain.addTask(task);
      const constrained = new TaskManager();
      constrained.addConstraintGroup(new OneAtATime());
      constrained.addTask(task);
      const signal = AbortSignal.abort('no');
      await expect(plain.triggerTask(task, 1, { signal })).rejects.toBeInstanceOf(TaskAbortedError);
      await expect(plain.triggerTaskByName('a', 1, { signal })).rejects.toBeInstanceOf(TaskAbortedError);
      await expect(constrained.triggerTaskConstrained(task, 1, { signal })).rejects.toBeInstanceOf(TaskAbortedError);
      expect(taskFunction).not.toHaveBeenCalled();
    });

    it('abort the run when the signal aborts while it runs', async () => {
      const manager = new TaskManager();
      const { task, contexts } = gatedTask('aborted', { readSignal: true });
      manager.addTask(task);
      const controller = new AbortController();
      const run = manager.triggerTask(task, 1, { signal: controller.signal });
      controller.abort('enough');
      await expect(run).rejects.toBeInstanceOf(TaskAbortedError);
      expect(contexts[0]!.signal.aborted).toBe(true);
    });

    it('tell the run it was triggered by hand', async () => {
      const manager = new TaskManager();
      const seen: ITaskRunContext[] = [];
      const task = new Task({ name: 'manual', taskFunction: async (_input, _setup, context) => void seen.push(context) });
      manager.addTask(task);
      const events: ITaskEvent[] = [];
      manager.taskSubject.subscribe((event) => events.push(event));
      await manager.triggerTask(task);
      expect(seen[0]!.trigger).toBe('manual');
      expect(seen[0]!.scheduledTime).toBeUndefined();
      expect(seen[0]!.fence).toBeUndefined();
      expect(events[0]).toMatchObject({ type: 'started', trigger: 'manual' });
      expect(events[0]!.scheduledTime).toBeUndefined();
    });
  });

  describe('removeTask', () => {
    it('throws a TypeError for something that is neither a task nor a name', () => {
      const manager = new TaskManager();
      expect(() => manager.removeTask(undefined as never)).toThrow(/`taskOrName`/);
      expect(() => manager.removeTask(null as never)).toThrow(TypeError);
    });
  });

  describe('scheduled runs', () => {
    it('tell the run its tick, without a coordinator and through constraint groups', async () => {
      const scheduler = new ManualScheduler();
      const manager = new TaskManager({ scheduler });
      const seen: ITaskRunContext[] = [];
      const task = new Task({ name: 'tick', taskFunction: async (_input, _setup, context) => void seen.push(context) });
      manager.addTask(task);
      await manager.start();
      await scheduler.fire('tick', { scheduledTime: 5_000 });
      manager.addConstraintGroup(new OneAtATime());
      await scheduler.fire('tick', { scheduledTime: 6_000 });
      expect(seen.map((context) => [context.trigger, context.scheduledTime?.getTime(), context.fence])).toEqual([
        ['schedule', 5_000, undefined],
        ['schedule', 6_000, undefined],
      ]);
      await manager.stop();
    });

    it("tell the run the coordinator's fence, on the context and the started event", async () => {
      const scheduler = new ManualScheduler();
      const coordinator = new InMemoryCoordinator();
      const manager = new TaskManager({ scheduler, distributedCoordinator: coordinator, instanceId: 'a' });
      const seen: ITaskRunContext[] = [];
      const task = new Task({ name: 'fenced', taskFunction: async (_input, _setup, context) => void seen.push(context) });
      manager.addTask(task);
      const started: ITaskEvent[] = [];
      manager.taskSubject.subscribe((event) => event.type === 'started' && started.push(event));
      await manager.start();
      await scheduler.fire('fenced', { scheduledTime: 7_000 });
      await scheduler.fire('fenced', { scheduledTime: 8_000 });
      expect(seen.map((context) => context.trigger)).toEqual(['schedule', 'schedule']);
      expect(seen[1]!.fence).toBeGreaterThan(seen[0]!.fence!);
      expect(started[1]).toMatchObject({ trigger: 'schedule', scheduledTime: 8_000, fence: seen[1]!.fence });
      expect(coordinator.getOutcome('a:fenced:8000')).toBe('succeeded');
      await manager.stop();
    });

    it('hand a granted tick that still waits on a constraint group back to the coordinator at stop', async () => {
      const coordinator = new InMemoryCoordinator();
      const schedulerA = new ManualScheduler();
      const a = new TaskManager({ scheduler: schedulerA, distributedCoordinator: coordinator, instanceId: 'a' });
      a.addConstraintGroup(new OneAtATime());
      const busy = gatedTask('busy');
      const ticked = new Task({ name: 'ticked', taskFunction: vi.fn(async () => 'a') });
      a.addTask(busy.task);
      a.addTask(ticked);
      const skipped: ITaskEvent[] = [];
      a.taskSubject.subscribe((event) => event.type === 'skipped' && skipped.push(event));
      await a.start();
      const blocking = a.triggerTask(busy.task, 'busy');
      const tick = schedulerA.fire('ticked', { scheduledTime: 9_000 });
      await vi.waitFor(() => expect(a.waiting).toBe(1));
      const stopping = a.stop();
      await tick;
      expect(coordinator.getOutcome('a:ticked:9000')).toBe('cancelled');
      expect(skipped[0]).toMatchObject({ scheduledTime: 9_000 });
      expect(skipped[0]!.reason).toMatch(/handed back/);
      // Another instance may now run the tick.
      const schedulerB = new ManualScheduler();
      const b = new TaskManager({ scheduler: schedulerB, distributedCoordinator: coordinator, instanceId: 'b' });
      const runsOnB = vi.fn(async () => 'b');
      b.addTask(new Task({ name: 'ticked', taskFunction: runsOnB }));
      await b.start();
      await schedulerB.fire('ticked', { scheduledTime: 9_000 });
      expect(runsOnB).toHaveBeenCalledTimes(1);
      expect(coordinator.getOutcome('b:ticked:9000')).toBe('succeeded');
      busy.gates[0]!.open();
      await Promise.all([stopping, blocking, b.stop()]);
      expect(ticked.taskFunction).not.toHaveBeenCalled();
    });

    it('hand back a tick whose claim is granted after stop() began', async () => {
      const coordinator = new InMemoryCoordinator();
      const answered = gate();
      const fire = coordinator.fireDistributedTaskRequest.bind(coordinator);
      coordinator.fireDistributedTaskRequest = async (request) => {
        await answered.promise;
        return fire(request);
      };
      const scheduler = new ManualScheduler();
      const manager = new TaskManager({ scheduler, distributedCoordinator: coordinator, instanceId: 'a' });
      const task = new Task({ name: 'late-claim', taskFunction: vi.fn(async () => 'ran') });
      manager.addTask(task);
      await manager.start();
      const tick = scheduler.fire('late-claim', { scheduledTime: 10_000 });
      expect(manager.waiting).toBe(1);
      const stopping = manager.stop();
      expect(await settled(stopping)).toBe(false);
      answered.open();
      await Promise.all([tick, stopping]);
      expect(task.taskFunction).not.toHaveBeenCalled();
      expect(coordinator.getOutcome('a:late-claim:10000')).toBe('cancelled');
    });

    it('keep the coordinator until the outcome of the last run is recorded, then stop it', async () => {
      const coordinator = new InMemoryCoordinator();
      const calls: string[] = [];
      const update = coordinator.updateDistributedTaskRequest.bind(coordinator);
      coordinator.updateDistributedTaskRequest = async (request) => {
        calls.push(`update:${request.status}`);
        return update(request);
      };
      coordinator.stop = async () => void calls.push('stop');
      const scheduler = new ManualScheduler();
      const manager = new TaskManager({ scheduler, distributedCoordinator: coordinator, instanceId: 'a' });
      const { task, gates } = gatedTask('long');
      manager.addTask(task);
      await manager.start();
      const tick = scheduler.fire('long', { scheduledTime: 13_000 });
      await vi.waitFor(() => expect(manager.running).toBe(1));
      const stopping = manager.stop();
      expect(await settled(stopping)).toBe(false);
      expect(calls).toEqual([]);
      gates[0]!.open();
      await Promise.all([tick, stopping]);
      expect(calls).toEqual(['update:succeeded', 'stop']);
    });

    it('hand back a granted tick that the scheduler turns down (a run of the task began meanwhile)', async () => {
      const coordinator = new InMemoryCoordinator();
      const scheduler = new ManualScheduler();
      const manager = new TaskManager({ scheduler, distributedCoordinator: coordinator, instanceId: 'a' });
      const task = new Task({ name: 'overlapping', taskFunction: vi.fn(async () => 'ran') });
      manager.addTask(task);
      await manager.start();
      const steps: string[] = [];
      const control = {
        defer: () => void steps.push('defer'),
        begin: () => {
          steps.push('begin');
          return false;
        },
      };
      await scheduler.host!.runScheduledTask('overlapping', { scheduledTime: 12_000 }, control);
      expect(steps).toEqual(['defer', 'begin']);
      expect(task.taskFunction).not.toHaveBeenCalled();
      expect(coordinator.getOutcome('a:overlapping:12000')).toBe('cancelled');
      await manager.stop();
    });

    it('record a run aborted at the timeout, and one that outlives the grace, as cancelled', async () => {
      vi.useFakeTimers();
      const coordinator = new InMemoryCoordinator();
      const scheduler = new ManualScheduler();
      const manager = new TaskManager({ scheduler, distributedCoordinator: coordinator, instanceId: 'a' });
      const honours = gatedTask('honours', { readSignal: true });
      const stubborn = gatedTask('stubborn');
      manager.addTask(honours.task);
      manager.addTask(stubborn.task);
      await manager.start();
      const ticks = [scheduler.fire('honours', { scheduledTime: 11_000 }), scheduler.fire('stubborn', { scheduledTime: 11_000 })];
      await vi.waitFor(() => expect(manager.running).toBe(2));
      const stopping = manager.stop({ timeoutMs: 1_000 });
      await vi.advanceTimersByTimeAsync(1_000);
      await vi.waitFor(() => expect(coordinator.getOutcome('a:honours:11000')).toBe('cancelled'));
      expect(coordinator.getOutcome('a:stubborn:11000')).toBeUndefined();
      await vi.advanceTimersByTimeAsync(1_000);
      await stopping;
      expect(coordinator.getOutcome('a:stubborn:11000')).toBe('cancelled');
      stubborn.gates[0]!.open();
      await Promise.all(ticks);
      // Recorded once: the late end of the run does not overwrite it.
      expect(coordinator.getOutcome('a:stubborn:11000')).toBe('cancelled');
    });
  });
});

describe('TaskOnce', () => {
  describe('trigger', () => {
    it('does not run for a caller whose signal is already aborted', async () => {
      const taskFunction = vi.fn(async () => 'once');
      const task = new TaskOnce({ name: 'once', taskFunction });
      await expect(task.trigger(undefined, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(TaskAbortedError);
      expect(task.hasTriggered).toBe(false);
      expect(taskFunction).not.toHaveBeenCalled();
      await expect(task.trigger()).resolves.toBe('once');
    });
  });
});

describe('Task', () => {
  describe('trigger', () => {
    it('refuses a signal that is not an AbortSignal before the run starts', async () => {
      for (const task of [
        new Task({ name: 'plain', taskFunction: vi.fn(async () => 1) }),
        new Task({ name: 'buffered', buffered: true, taskFunction: vi.fn(async () => 1) }),
        new TaskOnce({ name: 'once', taskFunction: vi.fn(async () => 1) }),
        new TaskDebounced({ name: 'debounced', debounceTimeInMillis: 1, taskFunction: vi.fn(async () => 1) }),
      ]) {
        await expect(task.trigger(undefined, { signal: {} as AbortSignal })).rejects.toThrow(/`signal`/);
        expect(task.running).toBe(false);
        expect(task.taskFunction).not.toHaveBeenCalled();
      }
    });
  });
});
