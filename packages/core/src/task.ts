import { Subject, config as rxjsConfig } from 'rxjs';
import { addAbortListener, removeAbortListener } from './abort-listeners.js';
import { type Clock, systemClock } from './clock.js';
import { TaskAbortedError, TaskTimeoutError, invalidOption } from './errors.js';
import {
  createDeferred,
  kAttachSink,
  kDetachSink,
  kEmit,
  kAbortRuns,
  kActiveRuns,
  kAddIdleListener,
  kRemoveIdleListener,
  kRunEnded,
  kRunInfo,
  kScheduleInfo,
  kWaitingCalls,
  MANUAL_RUN,
  type InternalTriggerOptions,
  type RunInfo,
  toError,
  triggerOptionsError,
} from './internal.js';
import { checkHooks, hooksChanged } from './hooks.js';
import { kRunSignal } from './nested-run.js';
import { type SharedRunCaller, runShared } from './shared-run.js';
import { TaskStep } from './task-step.js';
import { validateBoolean, validateClock, validateLabelKey } from './validation.js';
import type {
  ITaskEvent,
  ITaskFunction,
  ITaskMetadata,
  ITaskRetryOptions,
  ITaskRunContext,
  ITaskSetupFunction,
  ITaskStep,
  ITaskStepDefinition,
  ITriggerOptions,
  StepNames,
  TTaskEventType,
  TTaskStatus,
  TriggerArguments,
  TriggerResult,
} from './types.js';

/** A task, or a function that returns one (resolved at run time). */
export type TaskReference = Task<any, any, any, any> | (() => Task<any, any, any, any>);

/** The input a task's function takes: what its `trigger()` accepts. */
export type TaskInput<TTask extends Task<any, any, any, any, any, any>> = Parameters<TTask['taskFunction']>[0];

/** What a task's `trigger()` resolves with. */
export type TaskResult<TTask extends Task<any, any, any, any, any, any>> = Awaited<ReturnType<TTask['trigger']>>;

/**
 * The type of `catchErrors`: the literal given, so that `catchErrors: true`
 * types the result `TResult | undefined`. With the result type unknown
 * (`any`: the explicit form `Task<TSetup, TSteps, TData>`), any boolean.
 */
export type CatchErrorsOption<TResult, TCatch extends boolean> = TCatch | (0 extends 1 & TResult ? boolean : never);

/** Options of `new Task()`. */
export interface ITaskOptions<
  TSetup = undefined,
  TSteps extends ReadonlyArray<ITaskStepDefinition> = [],
  TData extends object = Record<string, unknown>,
  TResult = any,
  TInput = any,
  TCatch extends boolean = false,
> {
  /** The function to run. Receives the trigger's input, the setup value and a run context. */
  taskFunction: ITaskFunction<TSetup, TResult, TInput>;
  /** Identifies the task; required to add it to a `TaskManager`. */
  name?: string;
  /** Reported in metadata and to distributed coordinators. */
  version?: string;
  /** A typed bag of data for constraint matching and routing. @default {} */
  data?: TData;
  /** Declared steps, for progress. Declare them `as const` to type `notifyStep`. */
  steps?: TSteps;
  /** Limit how many runs happen at once and buffer the rest. @default false */
  buffered?: boolean;
  /**
   * With `buffered`: how many runs at once, and how many calls may wait.
   * @default 1
   */
  bufferMax?: number;
  /** Runs before every run, with the same input: a `Task`, or a function returning one. */
  preTask?: TaskReference;
  /** Runs after every successful run, with its result: a `Task`, or a function returning one. */
  afterTask?: TaskReference;
  /** Runs once, before the first run; its value is the task function's second argument. */
  taskSetup?: ITaskSetupFunction<TSetup>;
  /**
   * Resolve with `undefined` instead of rejecting when a run fails; the
   * result is then typed `TResult | undefined`. @default false
   */
  catchErrors?: CatchErrorsOption<TResult, TCatch>;
  /** Initial labels. @default {} */
  labels?: Record<string, string>;
  /** Reject with `TaskTimeoutError` (and abort the run's signal) after this many ms. */
  timeout?: number;
  /**
   * Try again after a failure, waiting `backoffMs * factor ** n` before retry n.
   * @example { retries: 3, backoffMs: 100, factor: 2 }
   */
  retry?: ITaskRetryOptions;
  /** Where time comes from; tests may pass their own. @default systemClock */
  clock?: Clock;
}

type ScheduleInfoSource = () => { expression: string; nextRun?: Date } | undefined;

/**
 * An abort controller made only when someone reads its signal: most task
 * functions never do.
 */
class LazyAbort {
  #controller: AbortController | undefined;
  aborted = false;
  reason: unknown;
  /**
   * How a stopping manager ends the run this belongs to: set for runs that
   * settle early when given up on (timeout, caller's signal); other runs only
   * see their signal abort.
   */
  giveUp: ((error: Error) => void) | undefined;

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.aborted) this.#controller.abort(this.reason);
    }
    return this.#controller.signal;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.#controller?.abort(reason);
  }

  throwIfAborted(): void {
    if (this.aborted) throw this.reason;
  }
}

/**
 * The runs of a task that a stopping manager can still reach (see
 * `kAbortRuns`). A run keeps the set it started in; only runs that have an
 * abort handle (a guard, or a signal their function read) are in `live`, so a
 * run that never reads `context.signal` costs nothing here, and one that reads
 * it after the abort gets a signal that is already aborted.
 */
class RunSet {
  aborted = false;
  reason: unknown;
  live: Set<LazyAbort> | undefined;

  add(abort: LazyAbort): void {
    if (this.aborted) {
      if (abort.giveUp !== undefined) abort.giveUp(this.reason as Error);
      else abort.abort(this.reason);
      return;
    }
    (this.live ??= new Set()).add(abort);
  }

  delete(abort: LazyAbort): void {
    const live = this.live;
    if (live !== undefined && live.delete(abort) && live.size === 0) this.live = undefined;
  }

  abortAll(reason: Error): void {
    this.aborted = true;
    this.reason = reason;
    const live = this.live;
    this.live = undefined;
    if (live === undefined) return;
    for (const abort of live) {
      if (abort.giveUp !== undefined) abort.giveUp(reason);
      else abort.abort(reason);
    }
  }
}

class RunContext implements ITaskRunContext {
  readonly attempt: number;
  #abort: LazyAbort | undefined;
  /** Where a handle made on the first read of `signal` goes; `undefined` when the run has its guard. */
  readonly #runs: RunSet | undefined;
  readonly #info: RunInfo;

  constructor(attempt: number, abort: LazyAbort | undefined, runs: RunSet | undefined, info: RunInfo) {
    this.attempt = attempt;
    this.#abort = abort;
    this.#runs = runs;
    this.#info = info;
  }

  get signal(): AbortSignal {
    return this.#handle().signal;
  }

  get trigger(): 'manual' | 'schedule' {
    return this.#info.trigger;
  }

  get scheduledTime(): Date | undefined {
    const time = this.#info.scheduledTime;
    return time === undefined ? undefined : new Date(time);
  }

  get fence(): number | undefined {
    return this.#info.fence;
  }

  /** @internal The run's signal, for the tasks a composite run starts. */
  get [kRunSignal](): AbortSignal {
    return this.#handle().signal;
  }

  /** @internal The attempt has returned: a stopping manager no longer needs to reach it. */
  [kRunEnded](): void {
    if (this.#runs !== undefined && this.#abort !== undefined) this.#runs.delete(this.#abort);
  }

  #handle(): LazyAbort {
    let abort = this.#abort;
    if (abort === undefined) {
      abort = this.#abort = new LazyAbort();
      this.#runs!.add(abort);
    }
    return abort;
  }
}

interface BufferedCaller extends SharedRunCaller<any> {
  input: unknown;
}

interface BufferedCall {
  /** Newest last; the call runs with the input of its newest caller. */
  callers: BufferedCaller[];
}

/**
 * Runs at most `max` calls at once; up to `max` more wait. When the waiting
 * line is full, a new call takes the place of the newest waiting one, whose
 * callers then get the result of the run that replaced it. A place frees up
 * when a run's function has really returned, not when its trigger settled.
 */
class TaskBuffer {
  readonly max: number;
  readonly #taskName: () => string;
  #running = 0;
  readonly #waiting: BufferedCall[] = [];
  readonly #run: (input: unknown, options: ITriggerOptions | undefined) => Promise<any>;

  constructor(
    max: number,
    taskName: () => string,
    run: (input: unknown, options: ITriggerOptions | undefined) => Promise<any>,
  ) {
    this.max = max;
    this.#taskName = taskName;
    this.#run = run;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  /** Callers of the waiting calls. */
  get waitingCallers(): number {
    let count = 0;
    for (const call of this.#waiting) count += call.callers.length;
    return count;
  }

  push(input: unknown, options: ITriggerOptions | undefined): Promise<any> {
    const signal = options?.signal;
    if (signal?.aborted) {
      if (options?.onFinished !== undefined) queueMicrotask(options.onFinished);
      return Promise.reject(new TaskAbortedError(this.#taskName(), signal.reason));
    }
    if (this.#running < this.max) {
      this.#running++;
      const onFinished = options?.onFinished;
      const runOptions: InternalTriggerOptions = {
        signal,
        onFinished: () => {
          onFinished?.();
          this.#next();
        },
      };
      const info = (options as InternalTriggerOptions | undefined)?.[kRunInfo];
      if (info !== undefined) runOptions[kRunInfo] = info;
      return this.#run(input, runOptions);
    }
    const caller: BufferedCaller = { input, deferred: createDeferred<any>(), options, onAbort: undefined };
    let call: BufferedCall;
    if (this.#waiting.length < this.max) {
      call = { callers: [caller] };
      this.#waiting.push(call);
    } else {
      call = this.#waiting[this.#waiting.length - 1]!;
      call.callers.push(caller);
    }
    if (signal !== undefined) {
      caller.onAbort = () => this.#dropCaller(call, caller, signal.reason);
      addAbortListener(signal, caller.onAbort);
    }
    return caller.deferred.promise;
  }

  /** Rejects every waiting caller with `error` (a stopping manager gave up on them). */
  cancelWaiting(error: Error): void {
    const waiting = this.#waiting.splice(0);
    for (const call of waiting) {
      for (const caller of call.callers) {
        const signal = caller.options?.signal;
        if (signal !== undefined && caller.onAbort !== undefined) removeAbortListener(signal, caller.onAbort);
        caller.options?.onFinished?.();
        caller.deferred.reject(error);
      }
    }
  }

  #dropCaller(call: BufferedCall, caller: BufferedCaller, reason: unknown): void {
    const index = call.callers.indexOf(caller);
    if (index === -1) return;
    call.callers.splice(index, 1);
    if (call.callers.length === 0) {
      const position = this.#waiting.indexOf(call);
      if (position !== -1) this.#waiting.splice(position, 1);
    }
    caller.options?.onFinished?.();
    caller.deferred.reject(new TaskAbortedError(this.#taskName(), reason));
  }

  #next(): void {
    this.#running--;
    const call = this.#waiting.shift();
    if (call === undefined) return;
    this.#running++;
    const callers = call.callers;
    // The run is shared: an aborted caller leaves it, the others keep it. It runs with the newest caller's input.
    const newest = callers[callers.length - 1]!;
    const info = (newest.options as InternalTriggerOptions | undefined)?.[kRunInfo];
    runShared(
      callers,
      this.#taskName(),
      (options) => this.#run(newest.input, info === undefined ? options : { ...options, [kRunInfo]: info } as InternalTriggerOptions),
      () => this.#next(),
    );
  }
}

const SETUP_DONE = 2;
const SETUP_PENDING = 1;
const SETUP_NONE = 0;

/**
 * Sends `event` to `subject` as `subject.next(event)` would. A plain Subject
 * with exactly one observer gets it directly: rxjs 7's `Subject.next` allocates
 * an error-context closure and an iterator per call, which was the largest
 * cost of a trigger with one `taskSubject` subscriber. With one observer there
 * is no snapshot of the observer list to take, and a stopped or closed Subject
 * has no observers. Anything else goes through `next`.
 */
function deliver(subject: Subject<ITaskEvent>, event: ITaskEvent): void {
  const observers = subject.observers as Subject<ITaskEvent>['observers'] | null;
  if (observers === null || observers.length === 0) return;
  if (observers.length === 1 && subject.constructor === Subject && !rxjsConfig.useDeprecatedSynchronousErrorHandling) {
    observers[0]!.next(event);
  } else {
    subject.next(event);
  }
}

function resolveTask(reference: TaskReference): Task<any, any, any, any> {
  return reference instanceof Task ? reference : reference();
}

/** How far the step percentages may be from 100 (rounding of fractions such as 33.3). */
const STEP_TOTAL_TOLERANCE = 1e-6;

function checkHookReference(option: 'preTask' | 'afterTask', value: unknown): void {
  if (value !== undefined && !(value instanceof Task) && typeof value !== 'function') {
    invalidOption(option, 'a Task or a function that returns one', value);
  }
}

/**
 * A unit of work: a function with typed data, optional steps and progress,
 * labels, an event stream, buffering, timeout, retries and error tracking.
 *
 * @typeParam TSetup - what `taskSetup` returns; the task function's second argument
 * @typeParam TSteps - the declared steps (`as const`), which type `notifyStep`
 * @typeParam TData - the type of `data`
 * @typeParam TResult - what the task function resolves with
 * @typeParam TInput - the task function's input, which `trigger()` takes
 * @typeParam TCatch - `catchErrors`: with `true`, `trigger()` may resolve `undefined`
 */
export class Task<
  TSetup = undefined,
  TSteps extends ReadonlyArray<ITaskStepDefinition> = [],
  TData extends object = Record<string, unknown>,
  TResult = any,
  TInput = any,
  TCatch extends boolean = false,
> {
  name: string;
  version: string | undefined;
  data: TData;
  labels: Record<string, string>;
  taskFunction: ITaskFunction<TSetup, TResult, TInput>;
  taskSetup: ITaskSetupFunction<TSetup> | undefined;
  catchErrors: CatchErrorsOption<TResult, TCatch>;
  readonly buffered: boolean;
  readonly bufferMax: number | undefined;
  readonly timeout: number | undefined;
  readonly retry: Readonly<Required<ITaskRetryOptions>> | undefined;
  /** Every event of this task's runs. */
  readonly eventSubject = new Subject<ITaskEvent>();

  readonly #clock: Clock;
  readonly #buffer: TaskBuffer | undefined;
  readonly #steps: TaskStep[] | undefined;
  readonly #stepsByName: Map<string, TaskStep> | undefined;
  #currentStep: TaskStep | undefined;
  #active = 0;
  #status: TTaskStatus = 'idle';
  #runCount = 0;
  #totalDuration = 0;
  #lastRunTime: number | undefined;
  #lastError: Error | undefined;
  #errorCount = 0;
  #setupState: number;
  #setupPromise: Promise<void> | undefined;
  #setupValue: TSetup = undefined as TSetup;
  #sinks: Subject<ITaskEvent>[] | undefined;
  #preTask: TaskReference | undefined;
  #afterTask: TaskReference | undefined;
  /** No timeout and no retry: a run without trigger options can take the plain path. */
  readonly #plain: boolean;
  // Settle handlers of plain runs, shared by every run that started in the same millisecond.
  #plainStartTime = Number.NaN;
  #plainFulfilled: ((value: unknown) => unknown) | undefined;
  #plainRejected: ((error: unknown) => unknown) | undefined;
  #lastRunDateCache: Date | undefined;
  /** The runs a stopping manager can still reach; replaced by every abort (see `RunSet`). */
  #runs = new RunSet();
  #idleListeners: Array<() => void> | undefined;
  [kScheduleInfo]: ScheduleInfoSource | undefined;

  constructor(options: ITaskOptions<TSetup, TSteps, TData, TResult, TInput, TCatch>) {
    if (typeof options !== 'object' || options === null) {
      invalidOption('options', 'an object with a `taskFunction`', options);
    }
    if (typeof options.taskFunction !== 'function') {
      invalidOption('taskFunction', 'a function', options.taskFunction);
    }
    if (options.name !== undefined && typeof options.name !== 'string') {
      invalidOption('name', 'a string', options.name);
    }
    if (options.version !== undefined && typeof options.version !== 'string') {
      invalidOption('version', 'a string', options.version);
    }
    if (options.data !== undefined && (typeof options.data !== 'object' || options.data === null)) {
      invalidOption('data', 'an object', options.data);
    }
    validateBoolean('catchErrors', options.catchErrors);
    validateBoolean('buffered', options.buffered);
    const clock = options.clock === undefined ? systemClock : validateClock('clock', options.clock);
    checkHookReference('preTask', options.preTask);
    checkHookReference('afterTask', options.afterTask);
    if (options.taskSetup !== undefined && typeof options.taskSetup !== 'function') {
      invalidOption('taskSetup', 'a function', options.taskSetup);
    }
    if (options.timeout !== undefined) {
      const timeout = options.timeout;
      if (typeof timeout !== 'number' || !(timeout > 0) || !Number.isFinite(timeout)) {
        invalidOption('timeout', 'a positive finite number of milliseconds', timeout);
      }
    }
    if (options.bufferMax !== undefined) {
      const max = options.bufferMax;
      if (typeof max !== 'number' || !Number.isInteger(max) || max < 1) {
        invalidOption('bufferMax', 'a positive integer', max);
      }
    }
    const labels: Record<string, string> = {};
    if (options.labels !== undefined) {
      if (typeof options.labels !== 'object' || options.labels === null || Array.isArray(options.labels)) {
        invalidOption('labels', 'an object of string values', options.labels);
      }
      for (const [key, value] of Object.entries(options.labels)) {
        if (key === '__proto__') {
          invalidOption('labels', 'an object of string values without the key `"__proto__"`', options.labels);
        }
        if (typeof value !== 'string') invalidOption(`labels.${key}`, 'a string', value);
        labels[key] = value;
      }
    }

    this.name = options.name ?? '';
    this.version = options.version;
    this.data = options.data ?? ({} as TData);
    this.labels = labels;
    this.taskFunction = options.taskFunction;
    this.taskSetup = options.taskSetup;
    this.#preTask = options.preTask;
    this.#afterTask = options.afterTask;
    this.catchErrors = options.catchErrors ?? (false as CatchErrorsOption<TResult, TCatch>);
    this.timeout = options.timeout;
    this.#clock = clock;
    this.#setupState = options.taskSetup === undefined ? SETUP_DONE : SETUP_NONE;
    this.retry = options.retry === undefined ? undefined : validateRetry(options.retry);

    this.buffered = options.buffered ?? false;
    this.bufferMax = this.buffered ? (options.bufferMax ?? 1) : options.bufferMax;
    this.#plain = this.timeout === undefined && this.retry === undefined;
    this.#buffer = this.buffered
      ? new TaskBuffer(this.bufferMax!, () => this.name, (input, triggerOptions) => this.#run(input, triggerOptions))
      : undefined;

    if (options.steps !== undefined) {
      if (!Array.isArray(options.steps)) invalidOption('steps', 'an array of step definitions', options.steps);
      this.#steps = [];
      this.#stepsByName = new Map();
      let total = 0;
      for (const [index, definition] of options.steps.entries()) {
        if (typeof definition?.name !== 'string' || definition.name === '') {
          invalidOption(`steps[${index}].name`, 'a non-empty string', definition?.name);
        }
        const percentage = definition.percentage;
        if (typeof percentage !== 'number' || !(percentage >= 0) || !Number.isFinite(percentage)) {
          invalidOption(`steps[${index}].percentage`, 'a finite number >= 0', percentage);
        }
        total += percentage;
        if (this.#stepsByName.has(definition.name)) {
          throw new TypeError(
            `Expected step names to be unique, got \`"${definition.name}"\` twice (steps[${index}])`,
          );
        }
        const step = new TaskStep(definition);
        this.#steps.push(step);
        this.#stepsByName.set(step.name, step);
      }
      // Progress is the sum of the completed steps' percentages: it must be able to reach 100.
      if (this.#steps.length > 0 && Math.abs(total - 100) > STEP_TOTAL_TOLERANCE) {
        throw new TypeError(`Expected the percentages of \`steps\` to add up to 100, got ${total}`);
      }
    }
    if (this.#preTask !== undefined || this.#afterTask !== undefined) checkHooks(this, false);
  }

  /** Runs before every run, with the same input: a `Task`, or a function returning one. */
  get preTask(): TaskReference | undefined {
    return this.#preTask;
  }

  /** Throws a `TaskHookError` (and keeps the previous hook) when the new one closes a cycle. */
  set preTask(value: TaskReference | undefined) {
    checkHookReference('preTask', value);
    const previous = this.#preTask;
    this.#preTask = value;
    hooksChanged();
    try {
      checkHooks(this, false);
    } catch (error) {
      this.#preTask = previous;
      throw error;
    }
  }

  /** Runs after every successful run, with its result: a `Task`, or a function returning one. */
  get afterTask(): TaskReference | undefined {
    return this.#afterTask;
  }

  /** Throws a `TaskHookError` (and keeps the previous hook) when the new one closes a cycle. */
  set afterTask(value: TaskReference | undefined) {
    checkHookReference('afterTask', value);
    const previous = this.#afterTask;
    this.#afterTask = value;
    hooksChanged();
    try {
      checkHooks(this, false);
    } catch (error) {
      this.#afterTask = previous;
      throw error;
    }
  }

  /** Whether a run is in progress. */
  get running(): boolean {
    return this.#active > 0;
  }

  /** Whether no run is in progress. */
  get idle(): boolean {
    return this.#active === 0;
  }

  /** How many runs have ended, successfully or not. */
  get runCount(): number {
    return this.#runCount;
  }

  /** When the latest run started. */
  get lastRun(): Date | undefined {
    return this.#lastRunTime === undefined ? undefined : new Date(this.#lastRunTime);
  }

  /** The error of the latest failed run; cleared by the next success or `clearError()`. */
  get lastError(): Error | undefined {
    return this.#lastError;
  }

  /** How many runs have failed. */
  get errorCount(): number {
    return this.#errorCount;
  }

  /** `idle`, `running`, `completed` or `failed`. */
  get status(): TTaskStatus {
    return this.#status;
  }

  /**
   * Runs the task with `input`. Resolves with the task function's result;
   * rejects with its error unless `catchErrors` is set.
   */
  trigger(...args: TriggerArguments<TInput>): Promise<TriggerResult<TResult, TCatch>>;
  trigger(input?: unknown, options?: ITriggerOptions): Promise<TriggerResult<TResult, TCatch>> {
    if (options !== undefined) {
      const invalid = triggerOptionsError(options);
      if (invalid !== undefined) return Promise.reject(invalid);
    }
    if (this.#buffer !== undefined) return this.#buffer.push(input, options);
    return this.#run(input, options);
  }

  #run(input: unknown, options: ITriggerOptions | undefined): Promise<TResult> {
    if (
      options?.signal === undefined &&
      this.#plain &&
      this.#setupState === SETUP_DONE &&
      this.#preTask === undefined &&
      this.#afterTask === undefined
    ) {
      return this.#executePlain(input, options);
    }
    return this.#execute(input, options);
  }

  /** Marks a declared step as the active one (completing the previous). */
  notifyStep(stepName: StepNames<TSteps>): void {
    const step = this.#stepsByName?.get(stepName as string);
    if (step === undefined) {
      const known = this.#steps?.map((s) => `"${s.name}"`).join(', ') || 'none';
      throw new TypeError(
        `Task "${this.name}" has no step \`"${String(stepName)}"\`; declared steps: ${known}`,
      );
    }
    const now = this.#clock.now();
    const previous = this.#currentStep;
    if (previous !== undefined && previous !== step && previous.status === 'active') previous.complete(now);
    step.start(now);
    this.#currentStep = step;
    if (this.#isObserved()) this.#emitEvent('step', { stepName: step.name });
  }

  /** Progress of the current (or last) run, 0–100. */
  getProgress(): number {
    if (this.#status === 'completed') return 100;
    if (this.#steps === undefined) return 0;
    let sum = 0;
    for (const step of this.#steps) if (step.status === 'completed') sum += step.percentage;
    return Math.min(100, sum);
  }

  /** A copy of every step with its status and times. */
  getStepsMetadata(): ITaskStep[] {
    if (this.#steps === undefined) return [];
    return this.#steps.map((step) => step.toJSON());
  }

  /** A snapshot of the task. */
  getMetadata(): ITaskMetadata {
    let metadata: ITaskMetadata;
    const lastRunTime = this.#lastRunTime;
    if (this.#runCount > 0 && lastRunTime !== undefined && this.version === undefined && this.#currentStep === undefined) {
      // The usual shape once a task has run, in one literal with the same keys in the
      // same order as below: keys added to an object one by one cost a second allocation.
      metadata = {
        name: this.name,
        status: this.#status,
        steps: this.#steps === undefined ? [] : this.getStepsMetadata(),
        currentProgress: this.getProgress(),
        runCount: this.#runCount,
        labels: { ...this.labels },
        errorCount: this.#errorCount,
        lastRun: this.#lastRunDate(lastRunTime),
        averageDuration: this.#totalDuration / this.#runCount,
      };
    } else {
      metadata = {
        name: this.name,
        status: this.#status,
        steps: this.#steps === undefined ? [] : this.getStepsMetadata(),
        currentProgress: this.getProgress(),
        runCount: this.#runCount,
        labels: { ...this.labels },
        errorCount: this.#errorCount,
      };
      if (this.version !== undefined) metadata.version = this.version;
      if (this.#currentStep !== undefined) metadata.currentStep = this.#currentStep.name;
      if (lastRunTime !== undefined) metadata.lastRun = this.#lastRunDate(lastRunTime);
      if (this.#runCount > 0) metadata.averageDuration = this.#totalDuration / this.#runCount;
    }
    if (this.buffered) {
      metadata.buffered = true;
      metadata.bufferMax = this.bufferMax;
    }
    if (this.timeout !== undefined) metadata.timeout = this.timeout;
    if (this.#lastError !== undefined) metadata.lastError = this.#lastError.message;
    const schedule = this[kScheduleInfo]?.();
    if (schedule !== undefined) {
      metadata.cronSchedule = schedule.expression;
      if (schedule.nextRun !== undefined) metadata.nextRun = schedule.nextRun;
    }
    return metadata;
  }

  /**
   * A Date for `lastRun` in snapshots. Snapshots taken while `lastRun` stays
   * the same share one Date, as allocating a Date per event was a large part
   * of an observed trigger's cost; a Date someone has changed is not reused.
   */
  #lastRunDate(time: number): Date {
    let date = this.#lastRunDateCache;
    if (date === undefined || date.getTime() !== time) {
      date = new Date(time);
      this.#lastRunDateCache = date;
    }
    return date;
  }

  /** Sets a label; the key `__proto__` is refused with a `TypeError`. */
  setLabel(key: string, value: string): void {
    validateLabelKey(key);
    if (typeof value !== 'string') invalidOption(`labels.${key}`, 'a string', value);
    this.labels[key] = value;
  }

  getLabel(key: string): string | undefined {
    return Object.hasOwn(this.labels, key) ? this.labels[key] : undefined;
  }

  /** Removes a label; `false` when it was not set. */
  removeLabel(key: string): boolean {
    if (!Object.hasOwn(this.labels, key)) return false;
    delete this.labels[key];
    return true;
  }

  /** Whether the label is set (to `value`, when given). */
  hasLabel(key: string, value?: string): boolean {
    if (!Object.hasOwn(this.labels, key)) return false;
    return value === undefined || this.labels[key] === value;
  }

  /** Forgets `lastError`; `errorCount` stays. */
  clearError(): void {
    this.#lastError = undefined;
    if (this.#status === 'failed' && this.#active === 0) this.#status = 'idle';
  }

  /** @internal The manager forwards this task's events to `sink`. */
  [kAttachSink](sink: Subject<ITaskEvent>): void {
    this.#sinks ??= [];
    if (!this.#sinks.includes(sink)) this.#sinks.push(sink);
  }

  /** @internal */
  [kDetachSink](sink: Subject<ITaskEvent>): void {
    if (this.#sinks === undefined) return;
    const index = this.#sinks.indexOf(sink);
    if (index !== -1) this.#sinks.splice(index, 1);
    if (this.#sinks.length === 0) this.#sinks = undefined;
  }

  /** @internal Emits an event that does not come from a run (queued, skipped). */
  [kEmit](type: TTaskEventType, fields?: Partial<ITaskEvent>): void {
    if (this.#isObserved()) this.#emitEvent(type, fields);
  }

  #isObserved(): boolean {
    if (this.eventSubject.observed) return true;
    const sinks = this.#sinks;
    if (sinks === undefined) return false;
    for (const sink of sinks) if (sink.observed) return true;
    return false;
  }

  #emitEvent(type: TTaskEventType, fields?: Partial<ITaskEvent>, timestamp = this.#clock.now()): void {
    const event: ITaskEvent = { type, task: this.getMetadata(), timestamp };
    if (fields !== undefined) Object.assign(event, fields);
    this.#deliver(event);
  }

  #deliver(event: ITaskEvent): void {
    deliver(this.eventSubject, event);
    const sinks = this.#sinks;
    if (sinks !== undefined) for (const sink of sinks) deliver(sink, event);
  }

  /**
   * A run without setup, pre/after tasks, timeout, retry or abort signal: the
   * task function's result settles through one `.then` into the same
   * end-of-run handlers as `#execute` uses, without an async function's frame.
   */
  #executePlain(input: unknown, options: ITriggerOptions | undefined): Promise<TResult> {
    const info = options === undefined ? MANUAL_RUN : ((options as InternalTriggerOptions)[kRunInfo] ?? MANUAL_RUN);
    const startTime = this.#beginRun(info);
    const context = new RunContext(0, undefined, this.#runs, info);
    let result: TResult | PromiseLike<TResult>;
    try {
      result = this.taskFunction(input as TInput, this.#setupValue, context);
    } catch (caught) {
      // Recorded a turn later, like a throw inside the general path's async body.
      result = Promise.reject(caught);
    }
    if (this.#runs.live !== undefined) {
      // The function read its signal: a stopping manager reaches the run until it returns.
      return Promise.resolve(result).then(
        (value) => {
          context[kRunEnded]();
          return this.#plainSucceeded(value, startTime, options);
        },
        (error) => {
          context[kRunEnded]();
          return this.#plainFailed(error, startTime, options);
        },
      );
    }
    if (options !== undefined) {
      return Promise.resolve(result).then(
        (value) => this.#plainSucceeded(value, startTime, options),
        (error) => this.#plainFailed(error, startTime, options),
      );
    }
    if (startTime !== this.#plainStartTime) {
      this.#plainStartTime = startTime;
      this.#plainFulfilled = (value) => this.#plainSucceeded(value as TResult, startTime, undefined);
      this.#plainRejected = (error) => this.#plainFailed(error, startTime, undefined);
    }
    return Promise.resolve(result).then(this.#plainFulfilled, this.#plainRejected) as Promise<TResult>;
  }

  /** Marks a run as started; returns its start time. */
  #beginRun(info: RunInfo): number {
    this.#active++;
    this.#status = 'running';
    const startTime = this.#clock.now();
    this.#lastRunTime = startTime;
    if (this.#steps !== undefined) {
      for (const step of this.#steps) step.reset();
      this.#currentStep = undefined;
    }
    if (this.#isObserved()) {
      const event: ITaskEvent = { type: 'started', task: this.getMetadata(), timestamp: startTime, trigger: info.trigger };
      if (info.scheduledTime !== undefined) event.scheduledTime = info.scheduledTime;
      if (info.fence !== undefined) event.fence = info.fence;
      this.#deliver(event);
    }
    return startTime;
  }

  #plainSucceeded(value: TResult, startTime: number, options: ITriggerOptions | undefined): TResult {
    try {
      this.#recordSuccess(startTime);
    } catch (caught) {
      return this.#plainFailed(caught, startTime, options);
    }
    this.#finish(options);
    return value;
  }

  /** Whatever was thrown, the run failed: the caller gets it as an `Error` (see `toError`). */
  #plainFailed(caught: unknown, startTime: number, options: ITriggerOptions | undefined): TResult {
    let error: Error;
    try {
      error = this.#recordFailure(caught, startTime);
    } finally {
      this.#finish(options);
    }
    if (this.catchErrors) return undefined as TResult;
    throw error;
  }

  #recordSuccess(startTime: number): void {
    const endTime = this.#endRun(startTime);
    this.#lastError = undefined;
    if (this.#currentStep?.status === 'active') this.#currentStep.complete(endTime);
    this.#status = this.#active > 1 ? 'running' : 'completed';
    if (this.#isObserved()) this.#emitEvent('completed', undefined, endTime);
  }

  #recordFailure(caught: unknown, startTime: number): Error {
    const error = toError(caught);
    const endTime = this.#endRun(startTime);
    this.#errorCount++;
    this.#lastError = error;
    this.#status = this.#active > 1 ? 'running' : 'failed';
    if (this.#isObserved()) this.#emitEvent('failed', { error: error.message }, endTime);
    return error;
  }

  /**
   * The general path of a run. Runs that need none of setup, pre/after tasks,
   * timeout, retry or an abort signal take `#executePlain` (see `#run`); both
   * end a run through `#plainSucceeded` / `#plainFailed`.
   *
   * `timeout` and the caller's `signal` cover the whole run: preTask, setup,
   * every attempt with its backoff, and afterTask. When either fires, the
   * trigger settles at once and the run's signal aborts; the run still counts
   * as running (and `onFinished` waits) until the work under way has returned.
   */
  #execute(input: unknown, options: ITriggerOptions | undefined): Promise<TResult> {
    const signal = options?.signal;
    if (signal?.aborted) {
      if (options?.onFinished !== undefined) queueMicrotask(options.onFinished);
      return Promise.reject(new TaskAbortedError(this.name, signal.reason));
    }
    const info = (options as InternalTriggerOptions | undefined)?.[kRunInfo] ?? MANUAL_RUN;
    const startTime = this.#beginRun(info);
    const runs = this.#runs;
    if (this.timeout === undefined && signal === undefined) {
      return this.#body(input, undefined, runs, info).then(
        (value) => this.#plainSucceeded(value, startTime, options),
        (error) => this.#plainFailed(error, startTime, options),
      );
    }
    const guard = new LazyAbort();
    return new Promise<TResult>((resolve, reject) => {
      let settled = false;
      let timer: unknown;
      const cleanup = () => {
        if (timer !== undefined) this.#clock.clearTimeout(timer);
        if (signal !== undefined) removeAbortListener(signal, onAbort);
      };
      const giveUp = (error: Error) => {
        if (settled) return;
        settled = true;
        cleanup();
        guard.abort(error);
        this.#recordFailure(error, startTime);
        if (this.catchErrors) resolve(undefined as TResult);
        else reject(error);
      };
      const onAbort = () => giveUp(new TaskAbortedError(this.name, signal?.reason));
      if (this.timeout !== undefined) {
        const timeout = this.timeout;
        timer = this.#clock.setTimeout(() => giveUp(new TaskTimeoutError(this.name, timeout)), timeout);
      }
      if (signal !== undefined) addAbortListener(signal, onAbort);
      guard.giveUp = giveUp;
      runs.add(guard);
      this.#body(input, guard, runs, info).then(
        (value) => {
          runs.delete(guard);
          if (settled) return this.#finish(options);
          settled = true;
          cleanup();
          resolve(this.#plainSucceeded(value, startTime, options));
        },
        (error) => {
          runs.delete(guard);
          if (settled) return this.#finish(options);
          settled = true;
          cleanup();
          try {
            resolve(this.#plainFailed(error, startTime, options));
          } catch (rethrown) {
            reject(rethrown);
          }
        },
      );
    });
  }

  /** preTask, setup, the attempts with their backoff, afterTask; stops early once `guard` aborts. */
  async #body(input: unknown, guard: LazyAbort | undefined, runs: RunSet, info: RunInfo): Promise<TResult> {
    const hookOptions = guard === undefined ? undefined : { signal: guard.signal };
    // Hooks given as functions are only known now; a cycle fails the run before any hook starts.
    if (this.#preTask !== undefined || this.#afterTask !== undefined) checkHooks(this, true);
    if (this.#preTask !== undefined) {
      await resolveTask(this.#preTask).trigger(input, hookOptions);
      guard?.throwIfAborted();
    }
    if (this.#setupState !== SETUP_DONE) {
      await this.#runSetup();
      guard?.throwIfAborted();
    }
    let result: TResult;
    for (let attempt = 0; ; attempt++) {
      const context = new RunContext(attempt, guard, guard === undefined ? runs : undefined, info);
      try {
        result = await this.taskFunction(input as TInput, this.#setupValue, context);
        context[kRunEnded]();
        break;
      } catch (error) {
        context[kRunEnded]();
        guard?.throwIfAborted();
        const retry = this.retry;
        if (retry === undefined || attempt >= retry.retries) throw error;
        if (this.#isObserved()) {
          this.#emitEvent('retry', { attempt: attempt + 1, error: toError(error).message });
        }
        await this.#sleep(retry.backoffMs * retry.factor ** attempt, guard);
      }
    }
    guard?.throwIfAborted();
    if (this.#afterTask !== undefined) {
      await resolveTask(this.#afterTask).trigger(result, hookOptions);
      guard?.throwIfAborted();
    }
    return result;
  }

  /** Counts the run and its duration; returns the end time. */
  #endRun(startTime: number): number {
    const endTime = this.#clock.now();
    this.#runCount++;
    this.#totalDuration += endTime - startTime;
    return endTime;
  }

  #finish(options: ITriggerOptions | undefined): void {
    this.#active--;
    if (this.#active === 0) {
      if (this.#status === 'running') this.#status = this.#lastError ? 'failed' : 'completed';
      // No run is under way: abort handles of runs that read their signal late need no keeping.
      if (this.#runs.live !== undefined) this.#runs = new RunSet();
    }
    options?.onFinished?.();
    // After onFinished, which may start the next buffered call.
    if (this.#active === 0 && this.#idleListeners !== undefined) {
      for (const listener of [...this.#idleListeners]) listener();
    }
  }

  /**
   * @internal Aborts the signal of every run under way with `reason`: runs
   * that would settle early on a timeout settle now, rejecting with `reason`;
   * a run whose function has not read its signal yet finds it aborted.
   */
  [kAbortRuns](reason: Error): void {
    // Calls waiting for a place in the buffer would start once the aborted runs return: they go first.
    this.#buffer?.cancelWaiting(reason);
    if (this.#active === 0) return;
    const runs = this.#runs;
    this.#runs = new RunSet();
    runs.abortAll(reason);
  }

  /** @internal */
  get [kActiveRuns](): number {
    return this.#active;
  }

  /** @internal */
  get [kWaitingCalls](): number {
    return this.#buffer?.waitingCallers ?? 0;
  }

  /** @internal */
  [kAddIdleListener](listener: () => void): void {
    (this.#idleListeners ??= []).push(listener);
  }

  /** @internal */
  [kRemoveIdleListener](listener: () => void): void {
    const listeners = this.#idleListeners;
    if (listeners === undefined) return;
    const index = listeners.indexOf(listener);
    if (index !== -1) listeners.splice(index, 1);
    if (listeners.length === 0) this.#idleListeners = undefined;
  }

  /** Waits out a retry backoff; ends early (rejecting) when the run is given up on. */
  #sleep(ms: number, guard: LazyAbort | undefined): Promise<void> {
    if (guard === undefined) {
      return ms <= 0 ? Promise.resolve() : new Promise<void>((resolve) => this.#clock.setTimeout(resolve, ms));
    }
    const signal = guard.signal;
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.#clock.clearTimeout(timer);
        reject(guard.reason);
      };
      const timer = this.#clock.setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  #runSetup(): Promise<void> {
    if (this.#setupState === SETUP_PENDING) return this.#setupPromise!;
    this.#setupState = SETUP_PENDING;
    const setup = this.taskSetup!;
    this.#setupPromise = (async () => {
      try {
        this.#setupValue = await setup();
        this.#setupState = SETUP_DONE;
      } catch (error) {
        // A failed setup is tried again by the next run.
        this.#setupState = SETUP_NONE;
        throw error;
      } finally {
        this.#setupPromise = undefined;
      }
    })();
    return this.#setupPromise;
  }
}

/** @internal Checks the `taskArray` of a `Taskchain` or `Taskparallel`. */
export function validateTaskArray(taskArray: unknown): void {
  if (!Array.isArray(taskArray)) invalidOption('taskArray', 'an array of tasks', taskArray);
  for (const [index, task] of taskArray.entries()) {
    if (!(task instanceof Task)) invalidOption(`taskArray[${index}]`, 'a Task', task);
  }
}

function validateRetry(retry: ITaskRetryOptions): Required<ITaskRetryOptions> {
  if (typeof retry !== 'object' || retry === null) invalidOption('retry', 'an object', retry);
  const { retries, backoffMs = 0, factor = 2 } = retry;
  if (typeof retries !== 'number' || !Number.isInteger(retries) || retries < 0) {
    invalidOption('retry.retries', 'a non-negative integer', retries);
  }
  if (typeof backoffMs !== 'number' || !(backoffMs >= 0) || !Number.isFinite(backoffMs)) {
    invalidOption('retry.backoffMs', 'a non-negative finite number', backoffMs);
  }
  if (typeof factor !== 'number' || !(factor >= 0) || !Number.isFinite(factor)) {
    invalidOption('retry.factor', 'a non-negative finite number', factor);
  }
  return Object.freeze({ retries, backoffMs, factor });
}
