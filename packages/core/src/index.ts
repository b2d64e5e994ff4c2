import * as distributedCoordination from './distributed-coordination.js';

export { Task } from './task.js';
export type { CatchErrorsOption, ITaskOptions, TaskInput, TaskReference, TaskResult } from './task.js';
export { TaskStep } from './task-step.js';
export { Taskchain } from './taskchain.js';
export type { ITaskchainOptions } from './taskchain.js';
export { Taskparallel } from './taskparallel.js';
export type { ITaskparallelOptions } from './taskparallel.js';
export { TaskOnce } from './task-once.js';
export { TaskDebounced } from './task-debounced.js';
export type { ITaskDebouncedOptions } from './task-debounced.js';
export { TaskManager, TaskMap } from './task-manager.js';
export type {
  ITaskManagerOptions,
  ITaskManagerStopOptions,
  ITaskManagerTriggerOptions,
  TaskInputArguments,
  TaskManagerState,
} from './task-manager.js';
export { distributedCoordination };
export { AbstractDistributedCoordinator, InMemoryCoordinator } from './distributed-coordination.js';
export type { IDistributedTaskRequest, IDistributedTaskRequestResult } from './distributed-coordination.js';
export {
  ChainError,
  MissingPortError,
  TaskAbortedError,
  TaskCancelledError,
  TaskHookError,
  TaskNotFoundError,
  TaskTimeoutError,
  TaskbufferError,
  describeValue,
  invalidOption,
} from './errors.js';
export { systemClock } from './clock.js';
export type { Clock, TimerHandle } from './clock.js';
export type {
  AnyTask,
  ConstraintEngineHost,
  ConstraintEnginePort,
  ConstraintGroupPort,
  ConstraintGroupSnapshot,
  ConstraintKeySnapshot,
  MaybePromise,
  ScheduleOptions,
  ScheduledRunControl,
  ScheduledTick,
  SchedulerHost,
  SchedulerPort,
  TaskEventFields,
} from './ports.js';
export type {
  IScheduledRun,
  IScheduledTaskInfo,
  ITaskEvent,
  ITaskExecution,
  ITaskExecutionReport,
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
  TTaskStepStatus,
  TriggerArguments,
  TriggerResult,
} from './types.js';
