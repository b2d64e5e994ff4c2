import { ChainError, invalidOption } from './errors.js';
import { Task, type ITaskOptions, validateTaskArray } from './task.js';
import type { AnyTask } from './ports.js';
import { runSignalOf, triggerNested } from './nested-run.js';
import type { ITaskRunContext } from './types.js';

/** Options of `new Taskchain()`. */
export interface ITaskchainOptions extends Omit<ITaskOptions<undefined, [], Record<string, unknown>, any>, 'taskFunction' | 'steps'> {
  /** The tasks to run in order; each gets the previous one's result. */
  taskArray: AnyTask[];
}

/**
 * Runs tasks one after another, feeding each the result of the one before.
 * A failure rejects with a `ChainError` naming the chain and the failing task.
 *
 * The chain's `timeout` or a caller's `signal` aborts the signal of the task
 * under way, and no further task starts; the chain counts as running until
 * that task has really returned.
 */
export class Taskchain extends Task<undefined, [], Record<string, unknown>, any> {
  taskArray: AnyTask[];

  constructor(options: ITaskchainOptions) {
    if (typeof options !== 'object' || options === null) invalidOption('options', 'an object', options);
    validateTaskArray(options.taskArray);
    let self!: Taskchain;
    super({ ...options, taskFunction: (input, _setup, context) => self.#runChain(input, context) });
    self = this;
    this.taskArray = [...options.taskArray];
  }

  /** Appends a task to the chain. */
  addTask(task: AnyTask): void {
    if (!(task instanceof Task)) invalidOption('task', 'a Task', task);
    this.taskArray.push(task);
  }

  /** Removes a task by reference; `false` when it was not in the chain. */
  removeTask(task: AnyTask): boolean {
    const index = this.taskArray.indexOf(task);
    if (index === -1) return false;
    this.taskArray.splice(index, 1);
    return true;
  }

  /** Removes and returns the first task. */
  shiftTask(): AnyTask | undefined {
    return this.taskArray.shift();
  }

  async #runChain(input: unknown, context: ITaskRunContext): Promise<unknown> {
    const signal = runSignalOf(context);
    let value = input;
    const tasks = [...this.taskArray];
    for (const [index, task] of tasks.entries()) {
      // The chain has timed out or was aborted: its trigger has settled, nothing more starts.
      signal?.throwIfAborted();
      try {
        value = await (signal === undefined ? task.trigger(value) : triggerNested(task, value, signal));
      } catch (error) {
        throw new ChainError(this.name, task.name, index, error);
      }
    }
    return value;
  }
}
