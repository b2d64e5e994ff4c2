import { invalidOption } from './errors.js';
import { Task, type ITaskOptions } from './task.js';
import type { AnyTask } from './ports.js';

/** Options of `new Taskparallel()`. */
export interface ITaskparallelOptions<TCatch extends boolean = false>
  extends Omit<ITaskOptions<undefined, [], Record<string, unknown>, any[], any, TCatch>, 'taskFunction' | 'steps'> {
  /** The tasks to run at once; each gets the same input. */
  taskArray: AnyTask[];
}

/** Runs tasks side by side with one input; resolves with their results in task order. */
export class Taskparallel<TCatch extends boolean = false> extends Task<undefined, [], Record<string, unknown>, any[], any, TCatch> {
  taskArray: AnyTask[];

  constructor(options: ITaskparallelOptions<TCatch>) {
    if (typeof options !== 'object' || options === null) invalidOption('options', 'an object', options);
    if (!Array.isArray(options.taskArray)) invalidOption('taskArray', 'an array of tasks', options.taskArray);
    let self!: Taskparallel<TCatch>;
    super({ ...options, taskFunction: (input) => Promise.all(self.taskArray.map((task) => task.trigger(input))) });
    self = this;
    this.taskArray = [...options.taskArray];
  }
}
