import type { ITaskStep, ITaskStepDefinition, TTaskStepStatus } from './types.js';

/** One declared step of a task and how far it got in the current run. */
export class TaskStep implements ITaskStep {
  readonly name: string;
  readonly description: string;
  readonly percentage: number;
  status: TTaskStepStatus = 'pending';
  startTime?: number;
  endTime?: number;
  duration?: number;

  constructor(definition: ITaskStepDefinition) {
    this.name = definition.name;
    this.description = definition.description;
    this.percentage = definition.percentage;
  }

  start(now: number): void {
    this.status = 'active';
    this.startTime = now;
    this.endTime = undefined;
    this.duration = undefined;
  }

  complete(now: number): void {
    this.status = 'completed';
    this.endTime = now;
    this.duration = this.startTime === undefined ? undefined : now - this.startTime;
  }

  reset(): void {
    this.status = 'pending';
    this.startTime = undefined;
    this.endTime = undefined;
    this.duration = undefined;
  }

  /** A plain copy, safe to hand out. */
  toJSON(): ITaskStep {
    const step: ITaskStep = {
      name: this.name,
      description: this.description,
      percentage: this.percentage,
      status: this.status,
    };
    if (this.startTime !== undefined) step.startTime = this.startTime;
    if (this.endTime !== undefined) step.endTime = this.endTime;
    if (this.duration !== undefined) step.duration = this.duration;
    return step;
  }
}
