import { invalidOption } from './errors.js';
import { runSignalOf, triggerNested } from './nested-run.js';
import type { AnyTask } from './ports.js';
import { Task, type ITaskOptions, validateTaskArray } from './task.js';
import type { ITaskRunContext } from './types.js';

/** Options of `new Taskparallel()`. */
export interface ITaskparallelOptions<TCatch extends boolean = false>
  extends Omit<ITaskOptions<undefined, [], Record<string, unknown>, any[], any, TCatch>, 'taskFunction' | 'steps'> {
  /** The tasks to run at once; each gets the same input. */
  taskArray: AnyTask[];
}

/**
 * Runs tasks side by side with one input; resolves with their results in task order.
 *
 * When one task fails, the signals of the others abort, and the parallel
 * rejects with that first error once every other task's run has really
 * ended. The parallel's own `timeout` or a caller's `signal` aborts them all.
 */
export class Taskparallel<TCatch extends boolean = false> extends Task<undefined, [], Record<string, unknown>, any[], any, TCatch> {
  taskArray: AnyTask[];

  constructor(options: ITaskparallelOptions<TCatch>) {
    if (typeof options !== 'object' || options === null) invalidOption('options', 'an object', options);
    validateTaskArray(options.taskArray);
    let self!: Taskparallel<TCatch>;
    super({ ...options, taskFunction: (input, _setup, context) => self.#runAll(input, context) });
    self = this;
    this.taskArray = [...options.taskArray];
  }

  async #runAll(input: unknown, context: ITaskRunContext): Promise<unknown[]> {
    const outer = runSignalOf(context);
    outer?.throwIfAborted();
    const controller = new AbortController();
    const signal = controller.signal;
    const onOuterAbort = () => controller.abort(outer!.reason);
    outer?.addEventListener('abort', onOuterAbort, { once: true });
    let failure: { error: unknown } | undefined;
    const onFailure = (error: unknown): never => {
      if (failure === undefined) {
        failure = { error };
        controller.abort(error);
      }
      throw error;
    };
    try {
      const results = await Promise.allSettled(
        this.taskArray.map((task) => triggerNested(task, input, signal).catch(onFailure)),
      );
      if (failure !== undefined) throw failure.error;
      return results.map((result) => (result as PromiseFulfilledResult<unknown>).value);
    } finally {
      outer?.removeEventListener('abort', onOuterAbort);
    }
  }
}
