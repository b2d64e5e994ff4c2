import { BehaviorSubject, type Observable, Subject } from 'rxjs';
import { type Clock, systemClock } from './clock.js';
import type { AbstractDistributedCoordinator, IDistributedTaskRequest } from './distributed-coordination.js';
import {
  MissingPortError,
  TaskAbortedError,
  TaskCancelledError,
  TaskNotFoundError,
  TaskbufferError,
  invalidOption,
  invalidOptionError as typeError,
} from './errors.js';
import {
  type InternalTriggerOptions,
  type RunInfo,
  isAbortSignal,
  kAbortRuns,
  kActiveRuns,
  kAddIdleListener,
  kAttachSink,
  kDetachSink,
  kEmit,
  kRemoveIdleListener,
  kRunInfo,
  kScheduleInfo,
  kWaitingCalls,
  toError,
} from './internal.js';
import { validateClock } from './validation.js';
import type {
  AnyTask,
  ConstraintEngineHost,
  ConstraintEnginePort,
  ConstraintGroupPort,
  ScheduleOptions,
  ScheduledRunControl,
  ScheduledTick,
  SchedulerHost,
  SchedulerPort,
} from './ports.js';
import type { TaskInput, TaskResult } from './task.js';
import type { IScheduledRun, IScheduledTaskInfo, ITaskEvent, ITaskExecutionReport, ITaskMetadata } from './types.js';

/**
 * The arguments of a manager trigger after the task: the input, which may be
 * left out only when the task function accepts `undefined` (or does not
 * declare its type), then the trigger's options.
 */
export type TaskInputArguments<TTask extends AnyTask> = undefined extends TaskInput<TTask>
  ? [input?: TaskInput<TTask>, options?: ITaskManagerTriggerOptions]
  : [input: TaskInput<TTask>, options?: ITaskManagerTriggerOptions];

/** Options of `new TaskManager()`; every one is optional. */
export interface ITaskManagerOptions {
  /** Enables cron: `new CronScheduler()` from `@taskbuffer/scheduler`. */
  scheduler?: SchedulerPort;
  /** Consulted before every scheduled run, so that one instance of a cluster runs each tick. */
  distributedCoordinator?: AbstractDistributedCoordinator;
  /** Identifies this instance to the coordinator. @default a random UUID */
  instanceId?: string;
  /** Where time comes from. @default systemClock */
  clock?: Clock;
}

/**
 * Where a manager is in its life: `new` until the first `start()` or `stop()`,
 * `starting` while the coordinator and the scheduler start, `started`,
 * `stopping` while `stop()` drains the runs under way, then `stopped`
 * (`start()` may begin again from there).
 */
export type TaskManagerState = 'new' | 'starting' | 'started' | 'stopping' | 'stopped';

/** Options of `manager.stop()`. */
export interface ITaskManagerStopOptions {
  /**
   * How long to wait for the runs under way (and the triggers still to run)
   * before their signals abort with a `TaskCancelledError`; after that the
   * manager waits at most 1 s more for them to return. `0` waits for nothing:
   * runs under way go on to their end on their own.
   * @default 30_000
   */
  timeoutMs?: number;
}

/** Options of one trigger through the manager. */
export interface ITaskManagerTriggerOptions {
  /**
   * Cancels this trigger: already aborted, it rejects with `TaskAbortedError`
   * without running; aborted while it waits on a constraint group, it leaves
   * the line at once; aborted while it runs, the run's signal aborts.
   */
  signal?: AbortSignal;
}

/** How long `stop()` waits for runs to return once it has aborted their signals. */
const ABORT_GRACE_MS = 1_000;
const DEFAULT_STOP_TIMEOUT_MS = 30_000;

/** One scheduled tick on its way: claimed (maybe), run, its outcome recorded. */
interface TickRun {
  readonly task: AnyTask;
  readonly info: RunInfo;
  /** Correlates the engine's `execute` with the tick. */
  readonly signal: AbortSignal;
  /** The claim, when a coordinator decides the tick. */
  request: IDistributedTaskRequest | undefined;
  /** claiming → waiting (granted, in the constraints' line) → running → done; or handedBack. */
  phase: 'claiming' | 'waiting' | 'running' | 'handedBack' | 'done';
  /** The outcome was sent to the coordinator (or the tick was handed back). */
  settled: boolean;
}

/** The manager's tasks by name. */
export class TaskMap implements Iterable<AnyTask> {
  readonly #tasks = new Map<string, AnyTask>();

  get size(): number {
    return this.#tasks.size;
  }

  get(name: string): AnyTask | undefined {
    return this.#tasks.get(name);
  }

  has(name: string): boolean {
    return this.#tasks.has(name);
  }

  /** A copy of all tasks, in the order they were added. */
  getArray(): AnyTask[] {
    return [...this.#tasks.values()];
  }

  /** The first task that matches. */
  findSync(predicate: (task: AnyTask) => boolean): AnyTask | undefined {
    for (const task of this.#tasks.values()) if (predicate(task)) return task;
    return undefined;
  }

  [Symbol.iterator](): Iterator<AnyTask> {
    return this.#tasks.values();
  }

  /** @internal */
  set(task: AnyTask): void {
    this.#tasks.set(task.name, task);
  }

  /** @internal */
  delete(name: string): boolean {
    return this.#tasks.delete(name);
  }
}

/**
 * Holds tasks by name, routes every trigger through the constraint groups,
 * runs cron schedules (with a scheduler) and merges every task's events into
 * `taskSubject`.
 */
export class TaskManager {
  /** The events of every task added to this manager. */
  readonly taskSubject = new Subject<ITaskEvent>();
  readonly taskMap = new TaskMap();
  /** The constraint groups, in the order they were added. */
  readonly constraintGroups: ConstraintGroupPort[] = [];
  readonly scheduler: SchedulerPort | undefined;
  readonly distributedCoordinator: AbstractDistributedCoordinator | undefined;
  readonly instanceId: string;
  readonly clock: Clock;

  #engine: ConstraintEnginePort | undefined;
  #forwarding = true;
  #started = false;
  #generation = 0;
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  readonly #state = new BehaviorSubject<TaskManagerState>('new');
  /** Scheduled ticks between the scheduler's call and their recorded outcome. */
  readonly #ticks = new Set<TickRun>();
  readonly #ticksBySignal = new Map<AbortSignal, TickRun>();
  #idleWaiters: Array<() => void> | undefined;
  /** The runs under way were told to abort (stop() timed out): their failures are cancellations. */
  #abortedRuns = false;
  readonly #checkIdle = (): void => this.#resolveIdleWaiters();
  readonly #engineHost: ConstraintEngineHost;
  readonly #schedulerHost: SchedulerHost;

  constructor(options: ITaskManagerOptions = {}) {
    if (typeof options !== 'object' || options === null) invalidOption('options', 'an object', options);
    const { scheduler, distributedCoordinator } = options;
    if (scheduler !== undefined && (typeof scheduler !== 'object' || typeof scheduler.schedule !== 'function')) {
      invalidOption('scheduler', 'a scheduler such as `new CronScheduler()`', scheduler);
    }
    if (
      distributedCoordinator !== undefined &&
      (typeof distributedCoordinator !== 'object' ||
        typeof distributedCoordinator.fireDistributedTaskRequest !== 'function')
    ) {
      invalidOption('distributedCoordinator', 'an AbstractDistributedCoordinator', distributedCoordinator);
    }
    const { instanceId, clock } = options;
    if (instanceId !== undefined && (typeof instanceId !== 'string' || instanceId === '')) {
      invalidOption('instanceId', 'a non-empty string', instanceId);
    }
    this.scheduler = scheduler;
    this.distributedCoordinator = distributedCoordinator;
    this.instanceId = instanceId ?? globalThis.crypto.randomUUID();
    this.clock = clock === undefined ? systemClock : validateClock('clock', clock);
    this.#engineHost = {
      clock: this.clock,
      execute: (task, input, onFinished, options) => {
        const signal = options?.signal;
        if (signal === undefined) return task.trigger(input, { onFinished });
        const tick = this.#ticksBySignal.size === 0 ? undefined : this.#ticksBySignal.get(signal);
        if (tick !== undefined) return this.#startTick(tick, onFinished);
        return task.trigger(input, { onFinished, signal });
      },
      emit: (task, type, fields) => task[kEmit](type, fields),
      left: () => this.#resolveIdleWaiters(),
    };
    this.#schedulerHost = {
      clock: this.clock,
      runScheduledTask: (taskName, tick, control) => this.#runScheduled(taskName, tick, control),
      reportSkippedTick: (taskName, tick, reason) => {
        this.taskMap.get(taskName)?.[kEmit]('skipped', { reason, scheduledTime: tick.scheduledTime });
      },
    };
  }

  // -------------------------------------------------------------------------
  // Tasks
  // -------------------------------------------------------------------------

  /** Registers a task under its name and forwards its events to `taskSubject`. */
  addTask(task: AnyTask): void {
    this.#checkNewTask(task);
    this.#register(task);
  }

  /** Throws unless `task` can be registered; changes nothing. */
  #checkNewTask(task: AnyTask): void {
    if (typeof task !== 'object' || task === null || typeof task.trigger !== 'function') {
      invalidOption('task', 'a Task', task);
    }
    if (typeof task.name !== 'string' || task.name === '') {
      invalidOption('task.name', 'a non-empty string (a TaskManager finds tasks by name)', task.name);
    }
    const existing = this.taskMap.get(task.name);
    if (existing !== undefined) {
      throw new TaskbufferError(
        existing === task
          ? `Task "${task.name}" was already added to this TaskManager`
          : `A different task named "${task.name}" is already registered with this TaskManager`,
      );
    }
  }

  #register(task: AnyTask): void {
    this.taskMap.set(task);
    if (this.#forwarding) task[kAttachSink](this.taskSubject);
    if (this.#idleWaiters !== undefined) task[kAddIdleListener](this.#checkIdle);
    if (this.scheduler !== undefined) {
      const scheduler = this.scheduler;
      const name = task.name;
      task[kScheduleInfo] = () => scheduler.getSchedule(name);
    }
  }

  /** Removes a task (and its schedule); its events stop reaching `taskSubject`. */
  removeTask(taskOrName: AnyTask | string): boolean {
    if (typeof taskOrName !== 'string' && (typeof taskOrName !== 'object' || taskOrName === null)) {
      invalidOption('taskOrName', 'a Task or the name of one', taskOrName);
    }
    const name = typeof taskOrName === 'string' ? taskOrName : taskOrName.name;
    const task = this.taskMap.get(name);
    if (task === undefined || (typeof taskOrName !== 'string' && task !== taskOrName)) return false;
    this.taskMap.delete(name);
    task[kDetachSink](this.taskSubject);
    task[kRemoveIdleListener](this.#checkIdle);
    this.scheduler?.unschedule(name);
    task[kScheduleInfo] = undefined;
    // Its runs no longer count as the manager's.
    this.#resolveIdleWaiters();
    return true;
  }

  getTaskByName(name: string): AnyTask | undefined {
    return this.taskMap.get(name);
  }

  /**
   * Triggers a task through the constraint groups. Takes the task's input
   * type; resolves with its result, or `undefined` when a constraint group's
   * `shouldExecute` said no. `options.signal` cancels this trigger.
   */
  triggerTask<TTask extends AnyTask>(
    task: TTask,
    ...args: TaskInputArguments<TTask>
  ): Promise<TaskResult<TTask> | undefined>;
  triggerTask(task: AnyTask, input?: unknown, options?: ITaskManagerTriggerOptions): Promise<unknown> {
    return this.triggerTaskConstrained(task, input, options);
  }

  /**
   * Triggers a registered task by name; rejects with `TaskNotFoundError` for
   * an unknown name. A name says nothing of the task's types: the input is
   * not checked and the result is `any`. `options.signal` cancels this trigger.
   */
  triggerTaskByName(name: string, input?: unknown, options?: ITaskManagerTriggerOptions): Promise<any> {
    if (typeof name !== 'string') return Promise.reject(typeError('name', 'a task name (string)', name));
    const task = this.taskMap.get(name);
    if (task === undefined) return Promise.reject(new TaskNotFoundError(name));
    return this.#trigger(task, input, options);
  }

  /**
   * Runs a task once every applicable constraint group admits it. Resolves
   * with the result, or `undefined` when a `shouldExecute` said no.
   * `options.signal` cancels this trigger: see `ITaskManagerTriggerOptions`.
   * Bad arguments reject with a `TypeError` before anything starts.
   */
  triggerTaskConstrained<TTask extends AnyTask>(
    task: TTask,
    ...args: TaskInputArguments<TTask>
  ): Promise<TaskResult<TTask> | undefined>;
  triggerTaskConstrained(task: AnyTask, input?: unknown, options?: ITaskManagerTriggerOptions): Promise<unknown> {
    if (typeof task !== 'object' || task === null || typeof task.trigger !== 'function') {
      return Promise.reject(typeError('task', 'a Task', task));
    }
    return this.#trigger(task, input, options);
  }

  #trigger(task: AnyTask, input: unknown, options: ITaskManagerTriggerOptions | undefined): Promise<unknown> {
    if (options !== undefined) return this.#triggerWithOptions(task, input, options);
    const engine = this.#engine;
    if (engine === undefined || this.constraintGroups.length === 0) return task.trigger(input);
    return engine.run(task, input);
  }

  #triggerWithOptions(task: AnyTask, input: unknown, options: ITaskManagerTriggerOptions): Promise<unknown> {
    if (typeof options !== 'object' || options === null) {
      return Promise.reject(typeError('options', 'an object such as `{ signal }`', options));
    }
    const signal = options.signal;
    if (signal !== undefined) {
      if (!isAbortSignal(signal)) return Promise.reject(typeError('signal', 'an AbortSignal', signal));
      if (signal.aborted) return Promise.reject(new TaskAbortedError(task.name, signal.reason));
    }
    const engine = this.#engine;
    if (engine === undefined || this.constraintGroups.length === 0) {
      return signal === undefined ? task.trigger(input) : task.trigger(input, { signal });
    }
    return engine.run(task, input, signal === undefined ? undefined : { signal });
  }

  /**
   * Adds a task, runs it once through the constraints, removes it and
   * reports; `result` is `undefined` when a `shouldExecute` said no.
   */
  async addExecuteRemoveTask<TTask extends AnyTask>(
    task: TTask,
    options?: { input?: TaskInput<TTask> },
  ): Promise<ITaskExecutionReport<TaskResult<TTask> | undefined>> {
    if (options !== undefined && (typeof options !== 'object' || options === null)) {
      invalidOption('options', 'an object such as `{ input }`', options);
    }
    this.addTask(task);
    const startTime = this.clock.now();
    try {
      const result = (await this.triggerTaskConstrained(task as AnyTask, options?.input)) as TaskResult<TTask> | undefined;
      const endTime = this.clock.now();
      const steps = task.getStepsMetadata();
      return {
        taskName: task.name,
        startTime,
        endTime,
        duration: endTime - startTime,
        steps,
        stepsCompleted: steps.filter((step) => step.status === 'completed').map((step) => step.name),
        progress: task.getProgress(),
        result,
      };
    } finally {
      this.removeTask(task);
    }
  }

  getTaskMetadata(name: string): ITaskMetadata | null {
    return this.taskMap.get(name)?.getMetadata() ?? null;
  }

  getAllTasksMetadata(): ITaskMetadata[] {
    return this.taskMap.getArray().map((task) => task.getMetadata());
  }

  getTasksByLabel(key: string, value: string): AnyTask[] {
    return this.taskMap.getArray().filter((task) => task.hasLabel(key, value));
  }

  getTasksMetadataByLabel(key: string, value: string): ITaskMetadata[] {
    return this.getTasksByLabel(key, value).map((task) => task.getMetadata());
  }

  // -------------------------------------------------------------------------
  // Constraints
  // -------------------------------------------------------------------------

  /** Adds a constraint group (from `@taskbuffer/constraints`). Names must be unique. */
  addConstraintGroup(group: ConstraintGroupPort): void {
    if (typeof group !== 'object' || group === null || typeof group.createConstraintEngine !== 'function') {
      invalidOption('group', 'a TaskConstraintGroup', group);
    }
    if (typeof group.name !== 'string' || group.name === '') {
      invalidOption('group.name', 'a non-empty string', group.name);
    }
    if (this.constraintGroups.some((existing) => existing.name === group.name)) {
      throw new TaskbufferError(`A constraint group named "${group.name}" is already registered with this TaskManager`);
    }
    const engine = this.#engine ?? group.createConstraintEngine(this.#engineHost);
    // The engine may refuse a group it cannot run; only then is the group registered.
    engine.addGroup(group);
    this.#engine = engine;
    this.constraintGroups.push(group);
  }

  /** Removes a constraint group by name (or reference); what waited on it is re-evaluated. */
  removeConstraintGroup(nameOrGroup: string | ConstraintGroupPort): boolean {
    const index = this.constraintGroups.findIndex((group) =>
      typeof nameOrGroup === 'string' ? group.name === nameOrGroup : group === nameOrGroup,
    );
    if (index === -1) return false;
    const [group] = this.constraintGroups.splice(index, 1);
    this.#engine?.removeGroup(group!);
    return true;
  }

  // -------------------------------------------------------------------------
  // Scheduling
  // -------------------------------------------------------------------------

  /**
   * Adds a task and schedules it with a cron expression. When the task or the
   * expression is refused, nothing is registered.
   */
  addAndScheduleTask(task: AnyTask, cronExpression: string, options?: ScheduleOptions): void {
    const scheduler = this.#requireScheduler();
    const registered = typeof task === 'object' && task !== null && this.taskMap.get(task.name) === task;
    if (!registered) this.#checkNewTask(task);
    // The scheduler refuses a bad expression or option here, before the task is registered.
    scheduler.schedule(task.name, cronExpression, options);
    if (!registered) this.#register(task);
  }

  /** Schedules a registered task; throws for an unknown name or an invalid expression. */
  scheduleTaskByName(name: string, cronExpression: string, options?: ScheduleOptions): void {
    const scheduler = this.#requireScheduler();
    if (!this.taskMap.has(name)) throw new TaskNotFoundError(name);
    scheduler.schedule(name, cronExpression, options);
  }

  /** Removes a task's schedule; the task stays registered. */
  descheduleTaskByName(name: string): boolean {
    return this.scheduler?.unschedule(name) ?? false;
  }

  getScheduledTasks(): IScheduledTaskInfo[] {
    if (this.scheduler === undefined) return [];
    return this.scheduler.getScheduledTasks().map((info) => {
      const task = this.taskMap.get(info.name);
      if (task === undefined) return info;
      return { ...info, steps: task.getStepsMetadata(), metadata: task.getMetadata() };
    });
  }

  getNextScheduledRuns(limit = 10): IScheduledRun[] {
    return this.scheduler?.getNextScheduledRuns(limit) ?? [];
  }

  // -------------------------------------------------------------------------
  // Lifecycle
  // -------------------------------------------------------------------------

  /** Where the manager is in its life; see {@link TaskManagerState}. */
  get state(): TaskManagerState {
    return this.#state.value;
  }

  /**
   * The manager's state, now and at every change: emits the current state to
   * each new subscriber, then `starting`, `started`, `stopping`, `stopped`…
   * `stopped` comes once every run has ended and the coordinator has stopped,
   * after the last task event was forwarded.
   *
   * @example manager.stateChanges.subscribe((state) => state === 'stopped' && closeStreams())
   */
  get stateChanges(): Observable<TaskManagerState> {
    return this.#state.asObservable();
  }

  /** Runs under way of the tasks added to this manager. */
  get running(): number {
    let count = 0;
    for (const task of this.taskMap) count += task[kActiveRuns];
    return count;
  }

  /**
   * Work accepted that has not started: triggers waiting in a constraint
   * group's line, scheduled ticks waiting for the
   * coordinator's answer, calls waiting in a buffered task's line or in a
   * debounce period.
   */
  get waiting(): number {
    let count = this.#engine?.waiting ?? 0;
    for (const tick of this.#ticks) if (tick.phase === 'claiming') count++;
    for (const task of this.taskMap) count += task[kWaitingCalls];
    return count;
  }

  /**
   * Resolves once nothing runs or waits (see `running` and `waiting`) and the
   * outcome of every scheduled tick has been recorded; at once when that is so
   * already.
   */
  onIdle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise<void>((resolve) => this.#addIdleWaiter(resolve));
  }

  #isIdle(): boolean {
    if (this.#ticks.size > 0 || (this.#engine?.waiting ?? 0) > 0) return false;
    for (const task of this.taskMap) if (task[kActiveRuns] > 0 || task[kWaitingCalls] > 0) return false;
    return true;
  }

  #addIdleWaiter(waiter: () => void): void {
    if (this.#idleWaiters === undefined) {
      this.#idleWaiters = [];
      for (const task of this.taskMap) task[kAddIdleListener](this.#checkIdle);
    }
    this.#idleWaiters.push(waiter);
  }

  #removeIdleWaiter(waiter: () => void): void {
    const waiters = this.#idleWaiters;
    if (waiters === undefined) return;
    const index = waiters.indexOf(waiter);
    if (index !== -1) waiters.splice(index, 1);
    if (waiters.length === 0) this.#dropIdleWaiters();
  }

  #dropIdleWaiters(): void {
    this.#idleWaiters = undefined;
    for (const task of this.taskMap) task[kRemoveIdleListener](this.#checkIdle);
  }

  #resolveIdleWaiters(): void {
    const waiters = this.#idleWaiters;
    if (waiters === undefined || !this.#isIdle()) return;
    this.#dropIdleWaiters();
    for (const waiter of waiters) waiter();
  }

  /** Resolves `true` once idle, or `false` after `ms`. */
  #waitIdle(ms: number): Promise<boolean> {
    if (this.#isIdle()) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      let timer: unknown;
      const onIdle = () => {
        if (timer !== undefined) this.clock.clearTimeout(timer);
        resolve(true);
      };
      if (Number.isFinite(ms)) {
        timer = this.clock.setTimeout(() => {
          this.#removeIdleWaiter(onIdle);
          resolve(false);
        }, ms);
      }
      this.#addIdleWaiter(onIdle);
    });
  }

  #setState(state: TaskManagerState): void {
    if (this.#state.value !== state) this.#state.next(state);
  }

  /** Starts the coordinator and the scheduler. After `stop()`, starts them again. */
  start(): Promise<void> {
    // A start during a drain waits for the stop to end first.
    if (this.#stopping !== undefined) return this.#stopping.catch(ignore).then(() => this.start());
    if (this.#started) return this.#starting ?? Promise.resolve();
    this.#started = true;
    this.#abortedRuns = false;
    const generation = ++this.#generation;
    if (!this.#forwarding) {
      this.#forwarding = true;
      for (const task of this.taskMap) task[kAttachSink](this.taskSubject);
    }
    this.#setState('starting');
    const starting = (async () => {
      await this.distributedCoordinator?.start();
      // stop() was called while the coordinator started: the scheduler stays off.
      if (generation !== this.#generation) return;
      await this.scheduler?.start(this.#schedulerHost);
    })();
    this.#starting = starting;
    starting.then(
      () => {
        if (this.#starting === starting) this.#starting = undefined;
        if (generation === this.#generation) this.#setState('started');
      },
      () => {
        if (this.#starting === starting) this.#starting = undefined;
        if (generation === this.#generation) {
          this.#started = false;
          this.#setState('stopped');
        }
      },
    );
    return starting;
  }

  /**
   * Stops the manager without losing work:
   *
   * 1. the scheduler stops (no new ticks);
   * 2. scheduled ticks the coordinator granted that have not started are
   *    handed back to it (another instance may still run them); every other
   *    trigger still waiting on a constraint group rejects with
   *    `TaskCancelledError`;
   * 3. the runs under way are waited for, up to `timeoutMs` (default 30 s);
   *    at the timeout their signals abort with a `TaskCancelledError` and the
   *    manager waits at most 1 s more. A run that ignores its signal is then
   *    left to end on its own: its tick is recorded as `cancelled`, and its
   *    events are no longer forwarded;
   * 4. once the last run has ended and its outcome is recorded, the
   *    coordinator stops, and `taskSubject` stops receiving task events.
   *
   * A second call while stopping returns the same promise. `timeoutMs: 0`
   * waits for nothing (runs under way go on to their end on their own).
   * Rejects with a `TypeError` for a `timeoutMs` that is not a number ≥ 0.
   */
  stop(options?: ITaskManagerStopOptions): Promise<void> {
    let timeoutMs = DEFAULT_STOP_TIMEOUT_MS;
    if (options !== undefined) {
      if (typeof options !== 'object' || options === null) {
        return Promise.reject(typeError('options', 'an object such as `{ timeoutMs }`', options));
      }
      if (options.timeoutMs !== undefined) {
        timeoutMs = options.timeoutMs;
        if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0)) {
          return Promise.reject(typeError('timeoutMs', 'a number of milliseconds >= 0', timeoutMs));
        }
      }
    }
    if (this.#stopping !== undefined) return this.#stopping;
    const stopping = this.#stop(timeoutMs);
    this.#stopping = stopping;
    const done = () => {
      if (this.#stopping === stopping) this.#stopping = undefined;
    };
    stopping.then(done, done);
    return stopping;
  }

  async #stop(timeoutMs: number): Promise<void> {
    this.#generation++;
    this.#started = false;
    this.#setState('stopping');
    const starting = this.#starting;
    this.#starting = undefined;
    if (starting !== undefined) await starting.catch(ignore);
    let failure: { error: unknown } | undefined;
    const attempt = async (step: () => unknown) => {
      try {
        await step();
      } catch (error) {
        failure ??= { error };
      }
    };
    await attempt(() => this.scheduler?.stop());
    // Granted ticks that wait on constraints go back to the coordinator; the engine then drops them with the rest.
    const handingBack: Promise<void>[] = [];
    for (const tick of this.#ticks) if (tick.phase === 'waiting') handingBack.push(this.#handBack(tick));
    await attempt(() => this.#engine?.stop('the TaskManager was stopped'));
    await Promise.all(handingBack);
    if (timeoutMs > 0 && !(await this.#waitIdle(timeoutMs))) {
      // Triggers made during the drain that still wait, then the runs under way.
      await attempt(() => this.#engine?.stop('the TaskManager was stopped'));
      this.#abortedRuns = true;
      for (const task of this.taskMap) {
        task[kAbortRuns](new TaskCancelledError(task.name, `the TaskManager stopped after waiting ${timeoutMs} ms for the run to end`));
      }
      if (!(await this.#waitIdle(ABORT_GRACE_MS))) {
        // Runs that ignore their signal: their ticks are over as far as the cluster is concerned.
        await Promise.all([...this.#ticks].map((tick) => this.#recordOutcome(tick, 'cancelled')));
      }
    }
    await attempt(() => this.distributedCoordinator?.stop());
    this.#forwarding = false;
    for (const task of this.taskMap) task[kDetachSink](this.taskSubject);
    this.#setState('stopped');
    if (failure !== undefined) throw failure.error;
  }

  #requireScheduler(): SchedulerPort {
    if (this.scheduler === undefined) {
      throw new MissingPortError(
        'Cron scheduling needs a scheduler: install @taskbuffer/scheduler and pass ' +
          '`new TaskManager({ scheduler: new CronScheduler() })`',
      );
    }
    return this.scheduler;
  }

  // -------------------------------------------------------------------------
  // Scheduled ticks
  // -------------------------------------------------------------------------

  #runScheduled(taskName: string, tick: ScheduledTick, control?: ScheduledRunControl): Promise<void> {
    const task = this.taskMap.get(taskName);
    if (task === undefined) return Promise.resolve();
    const coordinator = this.distributedCoordinator;
    if (coordinator !== undefined) return this.#runCoordinated(task, coordinator, tick, control);
    const info: RunInfo = { trigger: 'schedule', scheduledTime: tick.scheduledTime };
    // Many tasks can be due at one instant: no async frame on this path. A failure is on
    // the task's events and `lastError`; a tick never rejects into the scheduler.
    try {
      const engine = this.#engine;
      if (engine === undefined || this.constraintGroups.length === 0) {
        return task.trigger(undefined, { [kRunInfo]: info } as InternalTriggerOptions).then(ignore, ignore);
      }
      // Without a coordinator there is nothing to hand back: the tick is only known to `execute`.
      const run = this.#newTick(task, info, false);
      run.phase = 'waiting';
      const forget = () => {
        this.#ticksBySignal.delete(run.signal);
      };
      return engine.run(task, undefined, { signal: run.signal }).then(forget, forget);
    } catch {
      return Promise.resolve();
    }
  }

  #newTick(task: AnyTask, info: RunInfo, tracked: boolean): TickRun {
    const run: TickRun = {
      task,
      info,
      signal: new AbortController().signal,
      request: undefined,
      phase: 'claiming',
      settled: false,
    };
    if (tracked) this.#ticks.add(run);
    this.#ticksBySignal.set(run.signal, run);
    return run;
  }

  /** The engine admitted a scheduled tick: its run starts now, unless the tick was handed back meanwhile. */
  #startTick(tick: TickRun, onFinished: () => void): Promise<unknown> {
    if (tick.phase !== 'waiting') {
      queueMicrotask(onFinished);
      return Promise.reject(new TaskCancelledError(tick.task.name, 'the TaskManager was stopped'));
    }
    tick.phase = 'running';
    return tick.task.trigger(undefined, { onFinished, [kRunInfo]: tick.info } as InternalTriggerOptions);
  }

  async #runCoordinated(
    task: AnyTask,
    coordinator: AbstractDistributedCoordinator,
    tick: ScheduledTick,
    control: ScheduledRunControl | undefined,
  ): Promise<void> {
    const taskName = task.name;
    const generation = this.#generation;
    // A claim waiting for the coordinator is not a run: the next ticks may claim meanwhile.
    control?.defer();
    const request: IDistributedTaskRequest = {
      submitterId: this.instanceId,
      requestResponseId: `${this.instanceId}:${taskName}:${tick.scheduledTime}`,
      taskName,
      taskVersion: task.version ?? '0',
      taskExecutionTime: tick.scheduledTime,
      taskExecutionTimeout: task.timeout ?? 0,
      taskExecutionParallel: 1,
      status: 'requesting',
    };
    const run = this.#newTick(task, { trigger: 'schedule', scheduledTime: tick.scheduledTime }, true);
    try {
      let reason: string | undefined;
      let fence: number | undefined;
      try {
        const result = await coordinator.fireDistributedTaskRequest(request);
        if (!result.shouldTrigger) reason = `distributed coordinator: ${result.reason || 'not elected'}`;
        // A fence is a positive number; 0 (a grant made without the coordinator's store) is none.
        else if (typeof result.fence === 'number' && result.fence > 0) fence = result.fence;
      } catch (error) {
        reason = `distributed coordinator failed: ${toError(error).message}`;
      }
      if (reason !== undefined) {
        this.#schedulerHost.reportSkippedTick(taskName, tick, reason);
        return;
      }
      run.request = request;
      if (fence !== undefined) (run as { info: RunInfo }).info = { ...run.info, fence };
      // The manager began stopping while the claim was on its way: the tick goes back unstarted.
      if (generation !== this.#generation) {
        await this.#handBack(run);
        return;
      }
      // A run of the task started while this claim waited (overlap: 'skip'): the scheduler reported
      // the tick; another instance may still run it.
      if (control !== undefined && !control.begin()) {
        await this.#handBack(run, undefined);
        return;
      }
      let failed = false;
      try {
        const engine = this.#engine;
        if (engine === undefined || this.constraintGroups.length === 0) {
          run.phase = 'running';
          await task.trigger(undefined, { [kRunInfo]: run.info } as InternalTriggerOptions);
        } else {
          run.phase = 'waiting';
          await engine.run(task, undefined, { signal: run.signal });
        }
      } catch {
        // The failure is on the task's events and `lastError`; a tick never rejects into the scheduler.
        failed = true;
      }
      if (run.phase === 'handedBack') return;
      if (run.phase === 'waiting') {
        // Dropped from the constraints' line without running (stop(), a removed group): not this instance's tick any more.
        await this.#handBack(run);
        return;
      }
      await this.#recordOutcome(run, failed ? (this.#abortedRuns ? 'cancelled' : 'failed') : 'succeeded');
    } finally {
      run.phase = 'done';
      this.#ticks.delete(run);
      this.#ticksBySignal.delete(run.signal);
      this.#resolveIdleWaiters();
    }
  }

  /** Gives a granted tick that never started back to the coordinator, so that another instance may run it. */
  async #handBack(run: TickRun, reason: string | undefined = 'the TaskManager is stopping'): Promise<void> {
    if (run.settled || run.request === undefined) return;
    run.settled = true;
    run.phase = 'handedBack';
    if (reason !== undefined) {
      this.#schedulerHost.reportSkippedTick(run.task.name, { scheduledTime: run.info.scheduledTime! }, `handed back to the distributed coordinator: ${reason}`);
    }
    try {
      await this.distributedCoordinator!.abandonDistributedTaskRequest({ ...run.request, status: 'cancelled' });
    } catch {
      // Best effort: the coordinator's grace period still bounds the tick.
    }
  }

  async #recordOutcome(run: TickRun, status: 'succeeded' | 'failed' | 'cancelled'): Promise<void> {
    if (run.settled || run.request === undefined) return;
    run.settled = true;
    try {
      await this.distributedCoordinator!.updateDistributedTaskRequest({ ...run.request, status });
    } catch {
      // Recording the outcome is best effort; the run itself has happened.
    }
  }
}

function ignore(): void {}
