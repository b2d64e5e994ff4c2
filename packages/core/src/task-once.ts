import type { ITaskStepDefinition, ITriggerOptions, TriggerArguments, TriggerResult } from './types.js';
import { TaskAbortedError } from './errors.js';
import { type InternalTriggerOptions, abandonOnAbort, kRunInfo, triggerOptionsError } from './internal.js';
import { Task, type ITaskOptions } from './task.js';

/**
 * Runs once. Later triggers, and triggers that arrive while the first run is
 * still going, resolve (or reject) like the first run.
 */
export class TaskOnce<
  TSetup = undefined,
  TSteps extends ReadonlyArray<ITaskStepDefinition> = [],
  TData extends object = Record<string, unknown>,
  TResult = any,
  TInput = any,
  TCatch extends boolean = false,
> extends Task<TSetup, TSteps, TData, TResult, TInput, TCatch> {
  #first: Promise<TriggerResult<TResult, TCatch>> | undefined;

  constructor(options: ITaskOptions<TSetup, TSteps, TData, TResult, TInput, TCatch>) {
    super(options);
  }

  /** Whether the task has been triggered. */
  get hasTriggered(): boolean {
    return this.#first !== undefined;
  }

  override trigger(...args: TriggerArguments<TInput>): Promise<TriggerResult<TResult, TCatch>>;
  override trigger(input?: unknown, options?: ITriggerOptions): Promise<TriggerResult<TResult, TCatch>> {
    if (options !== undefined) {
      const invalid = triggerOptionsError(options);
      if (invalid !== undefined) return Promise.reject(invalid);
      // An aborted caller neither starts the run nor waits for it.
      if (options.signal?.aborted) {
        if (options.onFinished !== undefined) queueMicrotask(options.onFinished);
        return Promise.reject(new TaskAbortedError(this.name, options.signal.reason));
      }
    }
    const onFinished = options?.onFinished;
    if (this.#first === undefined) {
      // The run is shared by every caller: one caller's signal must not abort it.
      const info = (options as InternalTriggerOptions | undefined)?.[kRunInfo];
      const runOptions =
        onFinished === undefined && info === undefined ? undefined : ({ onFinished, [kRunInfo]: info } as InternalTriggerOptions);
      this.#first = super.trigger(...([input, runOptions] as TriggerArguments<TInput>));
    } else if (onFinished !== undefined) {
      // Nothing runs for this trigger: it is finished once the first run has settled.
      this.#first.then(onFinished, onFinished);
    }
    const signal = options?.signal;
    return signal === undefined ? this.#first : abandonOnAbort(this.#first, signal, this.name);
  }
}
