import { Subject } from 'rxjs';
import { type Clock, systemClock } from './clock.js';
import type { AbstractDistributedCoordinator, IDistributedTaskRequest } from './distributed-coordination.js';
import { MissingPortError, TaskNotFoundError, TaskbufferError, invalidOption } from './errors.js';
import { kAttachSink, kDetachSink, kEmit, kScheduleInfo, toError } from './internal.js';
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
 * The input arguments of a manager trigger: the input may be left out only
 * when the task function accepts `undefined` (or does not declare its type).
 */
export type TaskInputArguments<TTask extends AnyTask> =
  undefined extends TaskInput<TTask> ? [input?: TaskInput<TTask>] : [input: TaskInput<TTask>];

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
      execute: (task, input, onFinished, options) => task.trigger(input, { onFinished, signal: options?.signal }),
      emit: (task, type, fields) => task[kEmit](type, fields),
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
    if (this.scheduler !== undefined) {
      const scheduler = this.scheduler;
      const name = task.name;
      task[kScheduleInfo] = () => scheduler.getSchedule(name);
    }
  }

  /** Removes a task (and its schedule); its events stop reaching `taskSubject`. */
  removeTask(taskOrName: AnyTask | string): boolean {
    const name = typeof taskOrName === 'string' ? taskOrName : taskOrName.name;
    const task = this.taskMap.get(name);
    if (task === undefined || (typeof taskOrName !== 'string' && task !== taskOrName)) return false;
    this.taskMap.delete(name);
    task[kDetachSink](this.taskSubject);
    this.scheduler?.unschedule(name);
    task[kScheduleInfo] = undefined;
    return true;
  }

  getTaskByName(name: string): AnyTask | undefined {
    return this.taskMap.get(name);
  }

  /**
   * Triggers a task through the constraint groups. Takes the task's input
   * type; resolves with its result, or `undefined` when a constraint group's
   * `shouldExecute` said no.
   */
  triggerTask<TTask extends AnyTask>(
    task: TTask,
    ...input: TaskInputArguments<TTask>
  ): Promise<TaskResult<TTask> | undefined>;
  triggerTask(task: AnyTask, input?: unknown): Promise<unknown> {
    return this.triggerTaskConstrained(task, input);
  }

  /**
   * Triggers a registered task by name; rejects with `TaskNotFoundError` for
   * an unknown name. A name says nothing of the task's types: the input is
   * not checked and the result is `any`.
   */
  triggerTaskByName(name: string, input?: unknown): Promise<any> {
    const task = this.taskMap.get(name);
    if (task === undefined) return Promise.reject(new TaskNotFoundError(name));
    return this.triggerTaskConstrained(task, input);
  }

  /**
   * Runs a task once every applicable constraint group admits it. Resolves
   * with the result, or `undefined` when a `shouldExecute` said no.
   */
  triggerTaskConstrained<TTask extends AnyTask>(
    task: TTask,
    ...input: TaskInputArguments<TTask>
  ): Promise<TaskResult<TTask> | undefined>;
  triggerTaskConstrained(task: AnyTask, input?: unknown): Promise<unknown> {
    if (this.#engine === undefined || this.constraintGroups.length === 0) return task.trigger(input);
    return this.#engine.run(task, input);
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

  /** Starts the coordinator and the scheduler. */
  start(): Promise<void> {
    if (this.#started) return this.#starting ?? Promise.resolve();
    this.#started = true;
    const generation = ++this.#generation;
    if (!this.#forwarding) {
      this.#forwarding = true;
      for (const task of this.taskMap) task[kAttachSink](this.taskSubject);
    }
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
      },
      () => {
        if (this.#starting === starting) this.#starting = undefined;
        if (generation === this.#generation) this.#started = false;
      },
    );
    return starting;
  }

  /**
   * Stops the scheduler and the coordinator, rejects triggers still waiting on
   * constraints, and stops forwarding task events. Runs already under way go
   * on to their end. Safe to call while `start()` is still in progress.
   */
  async stop(): Promise<void> {
    this.#generation++;
    this.#started = false;
    const starting = this.#starting;
    this.#starting = undefined;
    if (starting !== undefined) await starting.catch(() => {});
    let failure: { error: unknown } | undefined;
    const attempt = async (step: () => unknown) => {
      try {
        await step();
      } catch (error) {
        failure ??= { error };
      }
    };
    await attempt(() => this.scheduler?.stop());
    await attempt(() => this.#engine?.stop('the TaskManager was stopped'));
    await attempt(() => this.distributedCoordinator?.stop());
    this.#forwarding = false;
    for (const task of this.taskMap) task[kDetachSink](this.taskSubject);
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

  #runScheduled(taskName: string, tick: ScheduledTick, control?: ScheduledRunControl): Promise<void> {
    const task = this.taskMap.get(taskName);
    if (task === undefined) return Promise.resolve();
    const coordinator = this.distributedCoordinator;
    if (coordinator !== undefined) return this.#runCoordinated(task, coordinator, tick, control);
    // Many tasks can be due at one instant: no async frame on this path. A failure is on
    // the task's events and `lastError`; a tick never rejects into the scheduler.
    try {
      return this.triggerTaskConstrained(task).then(ignore, ignore);
    } catch {
      return Promise.resolve();
    }
  }

  async #runCoordinated(
    task: AnyTask,
    coordinator: AbstractDistributedCoordinator,
    tick: ScheduledTick,
    control: ScheduledRunControl | undefined,
  ): Promise<void> {
    const taskName = task.name;
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
    let reason: string | undefined;
    try {
      const result = await coordinator.fireDistributedTaskRequest(request);
      if (!result.shouldTrigger) reason = `distributed coordinator: ${result.reason || 'not elected'}`;
    } catch (error) {
      reason = `distributed coordinator failed: ${toError(error).message}`;
    }
    if (reason !== undefined) {
      this.#schedulerHost.reportSkippedTick(taskName, tick, reason);
      return;
    }
    // A run of the task started while this claim waited (overlap: 'skip'); the scheduler reported the tick.
    if (control !== undefined && !control.begin()) return;
    let failed = false;
    try {
      await this.triggerTaskConstrained(task);
    } catch {
      // The failure is on the task's events and `lastError`; a tick never rejects into the scheduler.
      failed = true;
    }
    try {
      await coordinator.updateDistributedTaskRequest({ ...request, status: failed ? 'failed' : 'succeeded' });
    } catch {
      // Recording the outcome is best effort; the run itself has happened.
    }
  }
}

function ignore(): void {}
