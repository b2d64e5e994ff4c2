import type {
  ConstraintGroupSnapshot,
  IScheduledRun,
  IScheduledTaskInfo,
  ITaskEvent,
  ITaskMetadata,
} from '@taskbuffer/core';

/**
 * What the dashboard reads from a manager. A `TaskManager` from
 * `@taskbuffer/core` fits; so does anything with the same shape.
 */
export interface DashboardSource {
  getAllTasksMetadata(): ITaskMetadata[];
  getScheduledTasks?(): IScheduledTaskInfo[];
  getNextScheduledRuns?(limit?: number): IScheduledRun[];
  readonly constraintGroups?: ReadonlyArray<{ readonly name: string; getSnapshot?(): ConstraintGroupSnapshot }>;
  readonly taskSubject: {
    subscribe(next: (event: ITaskEvent) => void): { unsubscribe(): void };
  };
}

/** A task's metadata as it travels as JSON: dates become epoch ms. */
export interface DashboardTask extends Omit<ITaskMetadata, 'lastRun' | 'nextRun'> {
  /** Epoch ms. */
  lastRun?: number;
  /** Epoch ms. */
  nextRun?: number;
}

/** One event, without the task's metadata (that travels in `tasks`). */
export interface DashboardEvent extends Omit<ITaskEvent, 'task'> {
  taskName: string;
}

/** A scheduled task as it travels as JSON. */
export interface DashboardScheduledTask {
  name: string;
  schedule: string;
  /** Epoch ms. */
  nextRun?: number;
  timezone?: string;
}

/** One upcoming run as it travels as JSON. */
export interface DashboardScheduledRun {
  taskName: string;
  /** Epoch ms. */
  nextRun: number;
  schedule: string;
}

/** What the dashboard may do besides watching, as URLs relative to the events endpoint. */
export interface DashboardActions {
  /** POST here, with `{name}` replaced by the URL-encoded task name, to trigger a task. */
  trigger?: string;
}

/** Everything the dashboard shows, at one moment. */
export interface DashboardSnapshot {
  /** Epoch ms when the snapshot was taken; cooldowns count down from here. */
  time: number;
  tasks: DashboardTask[];
  scheduled: DashboardScheduledTask[];
  nextRuns: DashboardScheduledRun[];
  constraintGroups: ConstraintGroupSnapshot[];
  actions: DashboardActions;
}

/** What changed since the last update: the newest metadata of every task that had events. */
export interface DashboardUpdate {
  /** Epoch ms when the update was sent. */
  time: number;
  tasks: DashboardTask[];
  /** The newest events of the batch, oldest first. */
  events: DashboardEvent[];
  /** Events of the batch left out of `events` to keep the update small. */
  droppedEvents: number;
  /** Present when the manager has constraint groups. */
  constraintGroups?: ConstraintGroupSnapshot[];
}

/** Options of {@link createSnapshot}. */
export interface SnapshotOptions {
  /** How many upcoming runs to include. @default 10 */
  nextRunsLimit?: number;
  actions?: DashboardActions;
  /** @default Date.now() */
  time?: number;
}

function toEpoch(date: Date | undefined): number | undefined {
  if (date === undefined) return undefined;
  const time = date instanceof Date ? date.getTime() : new Date(date).getTime();
  return Number.isNaN(time) ? undefined : time;
}

/** Converts metadata to its JSON form. */
export function toDashboardTask(metadata: ITaskMetadata): DashboardTask {
  const { lastRun, nextRun, ...rest } = metadata;
  const task: DashboardTask = rest;
  const last = toEpoch(lastRun);
  if (last !== undefined) task.lastRun = last;
  const next = toEpoch(nextRun);
  if (next !== undefined) task.nextRun = next;
  return task;
}

/** Converts an event to its JSON form, without the metadata snapshot. */
export function toDashboardEvent(event: ITaskEvent): DashboardEvent {
  const entry: DashboardEvent = { type: event.type, taskName: event.task.name, timestamp: event.timestamp };
  if (event.stepName !== undefined) entry.stepName = event.stepName;
  if (event.error !== undefined) entry.error = event.error;
  if (event.attempt !== undefined) entry.attempt = event.attempt;
  if (event.reason !== undefined) entry.reason = event.reason;
  if (event.constraintGroup !== undefined) entry.constraintGroup = event.constraintGroup;
  if (event.constraintKey !== undefined) entry.constraintKey = event.constraintKey;
  if (event.scheduledTime !== undefined) entry.scheduledTime = event.scheduledTime;
  return entry;
}

/** The snapshots of every constraint group that can report one. */
export function getConstraintGroupSnapshots(source: DashboardSource): ConstraintGroupSnapshot[] {
  const snapshots: ConstraintGroupSnapshot[] = [];
  for (const group of source.constraintGroups ?? []) {
    const snapshot = group.getSnapshot?.();
    if (snapshot !== undefined) snapshots.push(snapshot);
  }
  return snapshots;
}

/** Takes a snapshot of everything the dashboard shows. */
export function createSnapshot(source: DashboardSource, options: SnapshotOptions = {}): DashboardSnapshot {
  const scheduled: DashboardScheduledTask[] = (source.getScheduledTasks?.() ?? []).map((info) => {
    const entry: DashboardScheduledTask = { name: info.name, schedule: info.schedule };
    const next = toEpoch(info.nextRun);
    if (next !== undefined) entry.nextRun = next;
    if (info.timezone !== undefined) entry.timezone = info.timezone;
    return entry;
  });
  const nextRuns: DashboardScheduledRun[] = [];
  for (const run of source.getNextScheduledRuns?.(options.nextRunsLimit ?? 10) ?? []) {
    const next = toEpoch(run.nextRun);
    if (next !== undefined) nextRuns.push({ taskName: run.taskName, nextRun: next, schedule: run.schedule });
  }
  return {
    time: options.time ?? Date.now(),
    tasks: source.getAllTasksMetadata().map(toDashboardTask),
    scheduled,
    nextRuns,
    constraintGroups: getConstraintGroupSnapshots(source),
    actions: options.actions ?? {},
  };
}
