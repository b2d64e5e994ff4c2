import type { ITaskStepDefinition, ITriggerOptions } from './types.js';
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
> extends Task<TSetup, TSteps, TData, TResult> {
  #first: Promise<TResult> | undefined;

  constructor(options: ITaskOptions<TSetup, TSteps, TData, TResult>) {
    super(options);
  }

  /** Whether the task has been triggered. */
  get hasTriggered(): boolean {
    return this.#first !== undefined;
  }

  override trigger(input?: any, options?: ITriggerOptions): Promise<TResult> {
    if (this.#first === undefined) {
      this.#first = super.trigger(input, options);
    } else if (options?.onFinished !== undefined) {
      // Nothing runs for this trigger: it is finished once the first run has settled.
      const onFinished = options.onFinished;
      this.#first.then(onFinished, onFinished);
    }
    return this.#first;
  }
}
