import { type Clock, systemClock } from './clock.js';
import { invalidOption } from './errors.js';
import { type Deferred, createDeferred } from './internal.js';
import { Task, type ITaskOptions } from './task.js';
import type { ITaskStepDefinition, ITriggerOptions } from './types.js';

/** Options of `new TaskDebounced()`. */
export interface ITaskDebouncedOptions<
  TSetup = undefined,
  TSteps extends ReadonlyArray<ITaskStepDefinition> = [],
  TData extends object = Record<string, unknown>,
  TResult = any,
> extends ITaskOptions<TSetup, TSteps, TData, TResult> {
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
> extends Task<TSetup, TSteps, TData, TResult> {
  readonly debounceTimeInMillis: number;
  readonly #debounceClock: Clock;
  #timer: unknown;
  #latestInput: unknown;
  #waiting: Array<{ deferred: Deferred<TResult>; options: ITriggerOptions | undefined }> = [];

  constructor(options: ITaskDebouncedOptions<TSetup, TSteps, TData, TResult>) {
    const wait = options?.debounceTimeInMillis;
    if (typeof wait !== 'number' || !(wait >= 0) || !Number.isFinite(wait)) {
      invalidOption('debounceTimeInMillis', 'a non-negative finite number', wait);
    }
    super(options);
    this.debounceTimeInMillis = wait;
    this.#debounceClock = options.clock ?? systemClock;
  }

  override trigger(input?: any, options?: ITriggerOptions): Promise<TResult> {
    this.#latestInput = input;
    const deferred = createDeferred<TResult>();
    this.#waiting.push({ deferred, options });
    if (this.#timer !== undefined) this.#debounceClock.clearTimeout(this.#timer);
    this.#timer = this.#debounceClock.setTimeout(() => this.#fire(), this.debounceTimeInMillis);
    return deferred.promise;
  }

  /** Whether triggers are waiting for the quiet period to end. */
  get pending(): boolean {
    return this.#waiting.length > 0;
  }

  #fire(): void {
    this.#timer = undefined;
    const waiting = this.#waiting;
    this.#waiting = [];
    const onFinished = () => {
      for (const caller of waiting) caller.options?.onFinished?.();
    };
    super.trigger(this.#latestInput, { onFinished }).then(
      (value) => {
        for (const caller of waiting) caller.deferred.resolve(value);
      },
      (error) => {
        for (const caller of waiting) caller.deferred.reject(error);
      },
    );
  }
}
