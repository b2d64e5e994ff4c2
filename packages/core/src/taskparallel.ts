import { invalidOption } from './errors.js';
import { Task, type ITaskOptions, validateTaskArray } from './task.js';
import type { AnyTask } from './ports.js';

/** Options of `new Taskparallel()`. */
export interface ITaskparallelOptions extends Omit<ITaskOptions<undefined, [], Record<string, unknown>, any>, 'taskFunction' | 'steps'> {
  /** The tasks to run at once; each gets the same input. */
  taskArray: AnyTask[];
}

/** Runs tasks side by side with one input; resolves with their results in task order. */
export class Taskparallel extends Task<undefined, [], Record<string, unknown>, any[]> {
  taskArray: AnyTask[];

  constructor(options: ITaskparallelOptions) {
    if (typeof options !== 'object' || options === null) invalidOption('options', 'an object', options);
    validateTaskArray(options.taskArray);
    let self!: Taskparallel;
    super({ ...options, taskFunction: (input) => Promise.all(self.taskArray.map((task) => task.trigger(input))) });
    self = this;
    this.taskArray = [...options.taskArray];
  }
}
