import type { Clock } from './clock.js';
import type { Task } from './task.js';
import type { IScheduledRun, IScheduledTaskInfo, ITaskEvent, TTaskEventType } from './types.js';

/** A result that may come now or later. */
export type MaybePromise<T> = T | Promise<T>;

/** Any task, whatever its type parameters. */
export type AnyTask = Task<any, any, any, any>;

// ---------------------------------------------------------------------------
// Constraints
// ---------------------------------------------------------------------------

/** Extra fields a port may put on an event it asks the manager to emit. */
export type TaskEventFields = Partial<Omit<ITaskEvent, 'type' | 'task' | 'timestamp'>>;

/** What a constraint engine may ask of the manager that owns it. */
export interface ConstraintEngineHost {
  readonly clock: Clock;
  /**
   * Starts the task now. The returned promise settles like `task.trigger()`;
   * `onFinished` is called once the task function has really returned.
   * `options.signal` is the trigger's own signal: the run's signal aborts with it.
   */
  execute(
    task: AnyTask,
    input: unknown,
    onFinished: () => void,
    options?: { signal?: AbortSignal },
  ): Promise<unknown>;
  /** Emits an event on the task (and so on the manager's `taskSubject`). */
  emit(task: AnyTask, type: TTaskEventType, fields?: TaskEventFields): void;
  /**
   * A trigger left the engine without a run (aborted, cancelled, skipped by
   * `shouldExecute`, or its check failed): the manager looks again whether it
   * is idle. Optional for hosts.
   */
  left?(): void;
}

/** Runs every trigger of a manager through its constraint groups. */
export interface ConstraintEnginePort {
  addGroup(group: ConstraintGroupPort): void;
  /** Removes a group; what waited only on it is re-evaluated. */
  removeGroup(group: ConstraintGroupPort): void;
  /**
   * Admits, queues or skips one trigger. Resolves with the task's result, or
   * `undefined` when a `shouldExecute` said no; rejects with the task's error.
   *
   * `options.signal` cancels the trigger: already aborted, it rejects with
   * `TaskAbortedError` without running or waiting; aborted while it waits,
   * it leaves the line at once (rejects with `TaskAbortedError`, holds no slot,
   * starts no cooldown); aborted while it runs, it aborts the run's signal.
   */
  run(task: AnyTask, input: unknown, options?: { signal?: AbortSignal }): Promise<unknown>;
  /** Rejects every trigger still waiting and clears timers. */
  stop(reason: string): void;
  /**
   * How many triggers of this engine have not started: in line, or waiting
   * for a `shouldExecute` answer (`manager.waiting` and `manager.onIdle()`
   * read it). An engine that does not count leaves it out.
   */
  readonly waiting?: number;
}

/**
 * What a constraint group looks like to core. `@taskbuffer/constraints`'
 * `TaskConstraintGroup` implements it; the first group added to a manager
 * supplies the engine all of its groups share.
 */
export interface ConstraintGroupPort {
  readonly name: string;
  /** Runs allowed at once per key (`Infinity`: no cap). */
  readonly maxConcurrent: number;
  /** Minimum gap between the end of one run and the start of the next, per key (ms). */
  readonly cooldownMs: number;
  createConstraintEngine(host: ConstraintEngineHost): ConstraintEnginePort;
  /** The group's keys as they stand, for dashboards. */
  getSnapshot?(): ConstraintGroupSnapshot;
}

/** One key of a constraint group, as it stands. */
export interface ConstraintKeySnapshot {
  key: string;
  running: number;
  queued: number;
  /** 0 when the key is not cooling down. */
  cooldownRemainingMs: number;
}

/** A constraint group, as it stands. */
export interface ConstraintGroupSnapshot {
  name: string;
  maxConcurrent: number;
  cooldownMs: number;
  /** Keys that are running, queued or cooling down. */
  keys: ConstraintKeySnapshot[];
}

// ---------------------------------------------------------------------------
// Scheduling
// ---------------------------------------------------------------------------

/** Per-schedule options. */
export interface ScheduleOptions {
  /** IANA time zone; overrides the scheduler's default. */
  timezone?: string;
  /** `skip` (default): a tick is skipped while the previous run still runs. */
  overlap?: 'skip' | 'allow';
  /** `none` (default): missed ticks are reported, not run. `last`: the latest missed tick runs once. */
  catchUp?: 'none' | 'last';
}

/** One tick of a schedule. */
export interface ScheduledTick {
  /** The scheduled time, epoch ms on the second; the same on every instance. */
  scheduledTime: number;
}

/**
 * Lets a host tell the scheduler when a tick's run really begins. A tick that
 * first waits for the distributed coordinator's answer is not a run yet: it
 * must not make the next ticks report an overlap.
 */
export interface ScheduledRunControl {
  /** The run waits for something (a claim) before it starts; until `begin()` it does not count as running. */
  defer(): void;
  /**
   * The deferred run starts now. `false` when it must not (`overlap: 'skip'`
   * and a run of the task started meanwhile): the scheduler has then reported
   * the tick as skipped, and the host does not run it.
   */
  begin(): boolean;
}

/** What a scheduler may ask of the manager that owns it. */
export interface SchedulerHost {
  readonly clock: Clock;
  /**
   * Runs one tick: consults the distributed coordinator, then goes through the
   * constraint groups. Resolves when the run has ended; never rejects. A host
   * that waits before the run starts calls `control.defer()` at once and
   * `control.begin()` right before the run; without those calls the tick
   * counts as running from the call.
   */
  runScheduledTask(taskName: string, tick: ScheduledTick, control?: ScheduledRunControl): Promise<void>;
  /** Reports a tick that did not run (overlap, missed, …). */
  reportSkippedTick(taskName: string, tick: ScheduledTick, reason: string): void;
}

/** Plugs cron into a manager; `@taskbuffer/scheduler`'s `CronScheduler` implements it. */
export interface SchedulerPort {
  /**
   * Registers (or replaces) a task's schedule. Throws at once for an invalid
   * expression or time zone.
   */
  schedule(taskName: string, expression: string, options?: ScheduleOptions): void;
  /** Removes a schedule; `false` when there was none. */
  unschedule(taskName: string): boolean;
  start(host: SchedulerHost): MaybePromise<void>;
  /** Clears every timer; a stopped scheduler keeps no process alive. */
  stop(): MaybePromise<void>;
  getScheduledTasks(): IScheduledTaskInfo[];
  getNextScheduledRuns(limit: number): IScheduledRun[];
  /** The schedule of one task, if any. */
  getSchedule(taskName: string): { expression: string; nextRun?: Date } | undefined;
}
