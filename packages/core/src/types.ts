/** How one step of a task is declared. */
export interface ITaskStepDefinition {
  readonly name: string;
  readonly description: string;
  /** Share of the whole run, in percent. */
  readonly percentage: number;
}

/** The declared step names of a steps tuple (`as const`). */
export type StepNames<TSteps extends ReadonlyArray<{ readonly name: string }>> = TSteps[number]['name'];

export type TTaskStepStatus = 'pending' | 'active' | 'completed';

/** A step as it stands: its declaration plus status and times. */
export interface ITaskStep {
  name: string;
  description: string;
  percentage: number;
  status: TTaskStepStatus;
  /** Epoch ms when the step became active. */
  startTime?: number;
  /** Epoch ms when the step completed. */
  endTime?: number;
  /** `endTime - startTime`, once completed. */
  duration?: number;
}

export type TTaskStatus = 'idle' | 'running' | 'completed' | 'failed';

/** A snapshot of a task, taken when it is asked for. */
export interface ITaskMetadata {
  name: string;
  version?: string;
  status: TTaskStatus;
  steps: ITaskStep[];
  currentStep?: string;
  /** 0–100. */
  currentProgress: number;
  lastRun?: Date;
  nextRun?: Date;
  runCount: number;
  /** Mean duration of finished runs, in ms. */
  averageDuration?: number;
  cronSchedule?: string;
  buffered?: boolean;
  bufferMax?: number;
  timeout?: number;
  labels: Record<string, string>;
  /** The message of the last error, cleared by the next success. */
  lastError?: string;
  errorCount: number;
}

/**
 * `started`, `step`, `completed` and `failed` come from every run; `retry`
 * from a run that tries again; `queued` and `skipped` from the manager.
 */
export type TTaskEventType = 'started' | 'step' | 'completed' | 'failed' | 'retry' | 'queued' | 'skipped';

/** One event of a task's life. */
export interface ITaskEvent {
  type: TTaskEventType;
  /** The task's metadata at the moment the event was emitted. */
  task: ITaskMetadata;
  /** Epoch ms. */
  timestamp: number;
  /** With `step`: the step that became active. */
  stepName?: string;
  /** With `failed` and `retry`: the error's message. */
  error?: string;
  /** With `retry`: the attempt that is about to start (1 for the first retry). */
  attempt?: number;
  /** With `skipped`: why the run did not happen. */
  reason?: string;
  /** With `queued`: the constraint group and key the trigger waits on. */
  constraintGroup?: string;
  constraintKey?: string;
  /**
   * With `started` events of scheduled runs, the tick that runs; with
   * `skipped` events of scheduled ticks, the tick that did not run (epoch ms).
   */
  scheduledTime?: number;
  /** With `started`: why the run started, as `context.trigger` says. */
  trigger?: 'manual' | 'schedule';
  /** With `started` events of scheduled runs: the coordinator's fencing number for the tick, when it gave one. */
  fence?: number;
}

/** What `TaskManager.addExecuteRemoveTask` reports. */
export interface ITaskExecutionReport<TResult = any> {
  taskName: string;
  /** Epoch ms. */
  startTime: number;
  endTime: number;
  duration: number;
  steps: ITaskStep[];
  stepsCompleted: string[];
  progress: number;
  result: TResult;
}

/** One execution of a task, as a record. */
export interface ITaskExecution<TResult = any> {
  taskName: string;
  input: unknown;
  startTime: number;
  endTime?: number;
  status: TTaskStatus;
  result?: TResult;
  error?: Error;
}

/** A scheduled task as the scheduler sees it. */
export interface IScheduledTaskInfo {
  name: string;
  /** The cron expression. */
  schedule: string;
  nextRun?: Date;
  lastRun?: Date;
  timezone?: string;
  steps?: ITaskStep[];
  metadata?: ITaskMetadata;
}

/** One upcoming run. */
export interface IScheduledRun {
  taskName: string;
  nextRun: Date;
  schedule: string;
}

/** Passed as the third argument of every task function. */
export interface ITaskRunContext {
  /**
   * Aborted when the run times out, the caller's signal aborts, or a stopping
   * `TaskManager` gives up waiting for the run (reason: `TaskCancelledError`).
   */
  readonly signal: AbortSignal;
  /** 0 for the first attempt, 1 for the first retry, and so on. */
  readonly attempt: number;
  /** `schedule` for a run of a scheduled tick, `manual` for every other trigger. */
  readonly trigger: 'manual' | 'schedule';
  /** On scheduled runs: the tick this run belongs to (the same on every instance). */
  readonly scheduledTime?: Date;
  /**
   * On scheduled runs granted by a distributed coordinator that hands out
   * fencing numbers: the tick's fence. It grows with every grant of the task,
   * so a store can refuse a write that carries an older one.
   *
   * @example taskFunction: async (_input, _setup, { fence }) => db.write(row, { fence })
   */
  readonly fence?: number;
}

/**
 * The function a task runs. `input` is what `trigger(input)` was given;
 * `setupValue` is what `taskSetup` returned.
 */
export type ITaskFunction<TSetup = undefined, TResult = any, TInput = any> = (
  input: TInput,
  setupValue: TSetup,
  context: ITaskRunContext,
) => TResult | PromiseLike<TResult>;

/** Runs once before a task's first execution; its value is the function's second argument. */
export type ITaskSetupFunction<TSetup> = () => TSetup | PromiseLike<TSetup>;

/** Options for one trigger. */
export interface ITriggerOptions {
  /** Aborting it rejects the trigger with `TaskAbortedError` and aborts the run's `signal`. */
  signal?: AbortSignal;
  /**
   * Called once when the run this trigger belongs to has really ended (the task
   * function returned), even if the trigger already settled by timeout or abort.
   * Constraint engines release their slots here.
   */
  onFinished?: () => void;
}

/**
 * The arguments of `trigger()`: the input may be left out only when the task
 * function accepts `undefined` (or does not declare its input's type).
 */
export type TriggerArguments<TInput> = undefined extends TInput
  ? [input?: TInput, options?: ITriggerOptions]
  : [input: TInput, options?: ITriggerOptions];

/**
 * What `trigger()` resolves with: the task function's result, or, with
 * `catchErrors: true`, also `undefined` (a failed run).
 */
export type TriggerResult<TResult, TCatch extends boolean> = true extends TCatch ? TResult | undefined : TResult;

/** Opt-in retries with exponential backoff. */
export interface ITaskRetryOptions {
  /** How many times to try again after the first failure. */
  retries: number;
  /** Wait before the first retry, in ms. @default 0 */
  backoffMs?: number;
  /** Multiplier for every following wait. @default 2 */
  factor?: number;
}
