import { type Clock, systemClock } from './clock.js';
import { TaskAbortedError, invalidOption } from './errors.js';
import { addAbortListener, removeAbortListener } from './abort-listeners.js';
import { createDeferred, kAbortRuns, kWaitingCalls, triggerOptionsError } from './internal.js';
import { type SharedRunCaller, runShared } from './shared-run.js';
import { Task, type ITaskOptions } from './task.js';
import type { ITaskStepDefinition, ITriggerOptions, TriggerArguments, TriggerResult } from './types.js';

interface DebouncedCaller<TResult> extends SharedRunCaller<TResult> {
  input: unknown;
}

/** Options of `new TaskDebounced()`. */
export interface ITaskDebouncedOptions<
  TSetup = undefined,
  TSteps extends ReadonlyArray<ITaskStepDefinition> = [],
  TData extends object = Record<string, unknown>,
  TResult = any,
  TInput = any,
  TCatch extends boolean = false,
> extends ITaskOptions<TSetup, TSteps, TData, TResult, TInput, TCatch> {
  /** The quiet period after the last trigger before the task runs, in ms. */
  debounceTimeInMillis: number;
}

/**
 * Coalesces triggers: the task runs once, with the latest input, after
 * `debounceTimeInMillis` without a new trigger. Every trigger of that quiet
 * period settles with the result of that one run.
 */
export class TaskDebounced<
  TSetup = undefined,
  TSteps extends ReadonlyArray<ITaskStepDefinition> = [],
  TData extends object = Record<string, unknown>,
  TResult = any,
  TInput = any,
  TCatch extends boolean = false,
> extends Task<TSetup, TSteps, TData, TResult, TInput, TCatch> {
  readonly debounceTimeInMillis: number;
  readonly #debounceClock: Clock;
  #timer: unknown;
  #latestInput: unknown;
  #waiting: DebouncedCaller<TriggerResult<TResult, TCatch>>[] = [];

  constructor(options: ITaskDebouncedOptions<TSetup, TSteps, TData, TResult, TInput, TCatch>) {
    if (typeof options !== 'object' || options === null) {
      invalidOption('options', 'an object with a `taskFunction` and `debounceTimeInMillis`', options);
    }
    const wait = options.debounceTimeInMillis;
    if (typeof wait !== 'number' || !(wait >= 0) || !Number.isFinite(wait)) {
      invalidOption('debounceTimeInMillis', 'a non-negative finite number', wait);
    }
    super(options);
    this.debounceTimeInMillis = wait;
    this.#debounceClock = options.clock ?? systemClock;
  }

  override trigger(...args: TriggerArguments<TInput>): Promise<TriggerResult<TResult, TCatch>>;
  override trigger(input?: unknown, options?: ITriggerOptions): Promise<TriggerResult<TResult, TCatch>> {
    if (options !== undefined) {
      const invalid = triggerOptionsError(options);
      if (invalid !== undefined) return Promise.reject(invalid);
    }
    const signal = options?.signal;
    if (signal?.aborted) {
      if (options?.onFinished !== undefined) queueMicrotask(options.onFinished);
      return Promise.reject(new TaskAbortedError(this.name, signal.reason));
    }
    this.#latestInput = input;
    const caller: DebouncedCaller<TriggerResult<TResult, TCatch>> = {
      deferred: createDeferred(),
      options,
      input,
      onAbort: undefined,
    };
    if (signal !== undefined) {
      caller.onAbort = () => this.#drop(caller, signal.reason);
      addAbortListener(signal, caller.onAbort);
    }
    this.#waiting.push(caller);
    this.#restartTimer();
    return caller.deferred.promise;
  }

  /** @internal */
  override get [kWaitingCalls](): number {
    return this.#waiting.length + super[kWaitingCalls];
  }

  /** Whether triggers are waiting for the quiet period to end. */
  get pending(): boolean {
    return this.#waiting.length > 0;
  }

  #restartTimer(): void {
    if (this.#timer !== undefined) this.#debounceClock.clearTimeout(this.#timer);
    this.#timer = this.#debounceClock.setTimeout(() => this.#fire(), this.debounceTimeInMillis);
  }

  /** @internal The quiet period ends without a run: every waiting caller rejects with `reason`. */
  override [kAbortRuns](reason: Error): void {
    if (this.#timer !== undefined) this.#debounceClock.clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const caller of this.#waiting.splice(0)) {
      const signal = caller.options?.signal;
      if (signal !== undefined && caller.onAbort !== undefined) removeAbortListener(signal, caller.onAbort);
      caller.options?.onFinished?.();
      caller.deferred.reject(reason);
    }
    super[kAbortRuns](reason);
  }

  /** A caller aborted during the quiet period: it leaves, and the run uses the newest remaining input. */
  #drop(caller: DebouncedCaller<TriggerResult<TResult, TCatch>>, reason: unknown): void {
    const index = this.#waiting.indexOf(caller);
    if (index === -1) return;
    this.#waiting.splice(index, 1);
    if (this.#waiting.length === 0) {
      if (this.#timer !== undefined) this.#debounceClock.clearTimeout(this.#timer);
      this.#timer = undefined;
    } else {
      this.#latestInput = this.#waiting[this.#waiting.length - 1]!.input;
    }
    caller.options?.onFinished?.();
    caller.deferred.reject(new TaskAbortedError(this.name, reason));
  }

  #fire(): void {
    this.#timer = undefined;
    const waiting = this.#waiting;
    this.#waiting = [];
    // The run is shared by every caller of the quiet period: an aborted caller leaves it, the others keep it.
    runShared(waiting, this.name, (options) => super.trigger(...([this.#latestInput, options] as TriggerArguments<TInput>)));
  }
}
