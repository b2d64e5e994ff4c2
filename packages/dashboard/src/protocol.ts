import type {
  ConstraintGroupSnapshot,
  IScheduledRun,
  IScheduledTaskInfo,
  ITaskEvent,
  ITaskMetadata,
} from '@taskbuffer/core';

/**
 * The version of the wire protocol: every snapshot and update carries it as
 * `protocol`. A page skips messages of a version it does not know, says so,
 * and keeps going.
 */
export const DASHBOARD_PROTOCOL_VERSION = 1;

/**
 * What the dashboard reads from a manager. A `TaskManager` from
 * `@taskbuffer/core` fits; so does anything with the same shape.
 */
export interface DashboardManager {
  getAllTasksMetadata(): ITaskMetadata[];
  getScheduledTasks?(): IScheduledTaskInfo[];
  getNextScheduledRuns?(limit?: number): IScheduledRun[];
  readonly constraintGroups?: ReadonlyArray<{
    readonly name: string;
    readonly cooldownMs?: number;
    getSnapshot?(): ConstraintGroupSnapshot;
  }>;
  readonly taskSubject: {
    subscribe(next: (event: ITaskEvent) => void): { unsubscribe(): void };
  };
  /** Present on a `TaskManager`; the id events and runs are tagged with. */
  readonly instanceId?: string;
  /**
   * Present on a `TaskManager`: its state now and at every change (`stopped`
   * once its last run has ended). The local source tells its listeners when
   * the manager has stopped.
   */
  readonly stateChanges?: {
    subscribe(next: (state: string) => void): { unsubscribe(): void };
  };
}

/** A task's metadata as it travels as JSON: dates become epoch ms. */
export interface DashboardTask extends Omit<ITaskMetadata, 'lastRun' | 'nextRun'> {
  /** Epoch ms. */
  lastRun?: number;
  /** Epoch ms. */
  nextRun?: number;
  /**
   * The instances that have this task, from a source that merges several
   * (see {@link DashboardInstance}); absent from a single manager.
   */
  instances?: string[];
}

/**
 * One instance (manager) of a cluster, as a source that merges several sees
 * it. A single manager's source lists none.
 */
export interface DashboardInstance {
  id: string;
  /** `live` while it reports; `gone` once it stopped reporting (or left) for longer than the source's timeout. */
  status: 'live' | 'gone';
  /** Epoch ms of the last sign of life the source saw. */
  lastSeen: number;
  /** Whether the instance takes triggers from the dashboard. */
  triggers: boolean;
}

/** One event, without the task's metadata (that travels in `tasks`). */
export interface DashboardEvent extends Omit<ITaskEvent, 'task'> {
  taskName: string;
  /** The instance (manager) the event comes from, when the source knows it. */
  instanceId?: string;
}

/**
 * How a run ended, or where it stands: `queued` waits on a constraint group,
 * `running` has started; `cancelled` was aborted (signal, timeout of a
 * caller); `skipped` never ran (refused by `shouldExecute`, an overlapping or
 * missed tick, a tick another instance took).
 */
export type DashboardRunStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled' | 'skipped';

/** One run of a task, as the run history keeps it. Times are epoch ms. */
export interface DashboardRun {
  /** Unique within its source. */
  id: string;
  taskName: string;
  status: DashboardRunStatus;
  /** When the trigger began to wait on a constraint group. */
  queuedAt?: number;
  /** The group and key it waited on: `per-domain:acme.com`. */
  waitedOn?: string;
  /**
   * The group waited on has a cooldown: the last `cooldownMs` of the wait were
   * the key cooling down after the previous run.
   */
  cooldownMs?: number;
  startedAt?: number;
  /** When it ended (or was skipped). */
  endedAt?: number;
  /** Retries the run went through (1 after one retry). */
  attempt?: number;
  /** The error message of a failed or cancelled run. */
  error?: string;
  /** Why a run was skipped. */
  reason?: string;
  /** The instance (manager) that ran it. */
  instanceId?: string;
  /** The scheduled tick, for scheduled runs when the source knows it. */
  tick?: number;
  /** The coordinator's fencing number, when the source knows it. */
  fence?: number;
  /** A short summary of the input, when the source knows it and it is small. */
  input?: string;
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
  /** {@link DASHBOARD_PROTOCOL_VERSION}. */
  protocol: number;
  /** Epoch ms when the snapshot was taken; cooldowns count down from here. */
  time: number;
  tasks: DashboardTask[];
  scheduled: DashboardScheduledTask[];
  nextRuns: DashboardScheduledRun[];
  constraintGroups: ConstraintGroupSnapshot[];
  actions: DashboardActions;
  /**
   * The run history, oldest first per task. Absent in the periodic snapshots
   * of a stream, where the runs already sent stay as they are.
   */
  runs?: DashboardRun[];
  /** How many runs per task the history keeps. */
  runsPerTask?: number;
  /** Every instance the source merges, live or gone; absent for a single manager. */
  instances?: DashboardInstance[];
}

/** What changed since the last update: the newest metadata of every task that had events. */
export interface DashboardUpdate {
  /** {@link DASHBOARD_PROTOCOL_VERSION}. */
  protocol: number;
  /** Epoch ms when the update was sent. */
  time: number;
  tasks: DashboardTask[];
  /** The newest events of the batch, oldest first. */
  events: DashboardEvent[];
  /** Events of the batch left out of `events` to keep the update small. */
  droppedEvents: number;
  /** Present when the manager has constraint groups. */
  constraintGroups?: ConstraintGroupSnapshot[];
  /** Runs that began or changed in the batch, in their newest state. */
  runs?: DashboardRun[];
  /** Every instance, when one came, went or changed since the last update. */
  instances?: DashboardInstance[];
}

/** Options of {@link createSnapshot}. */
export interface SnapshotOptions {
  /** How many upcoming runs to include. @default 10 */
  nextRunsLimit?: number;
  actions?: DashboardActions;
  /** @default Date.now() */
  time?: number;
}

/** A subscription to a {@link DashboardSource}. */
export interface DashboardSubscription {
  unsubscribe(): void;
}

/** What a {@link DashboardSource} tells its watcher. */
export interface DashboardSourceListener {
  /** A batch of changes: newest task metadata, events and runs. */
  update(update: DashboardUpdate): void;
  /**
   * The source cannot see (part of) what it shows, e.g. its link to a shared
   * store is down: a message for the page; `undefined` once it can again.
   */
  problem?(message: string | undefined): void;
  /**
   * What the source shows has stopped (its manager's `stop()` has ended): no
   * more updates follow. The dashboard handler then sends a final `stopped`
   * event and ends its streams, so that a server can close. Called again for
   * a listener that subscribes while it is still stopped.
   */
  stopped?(): void;
}

/** Options of {@link DashboardSource.getSnapshot}. */
export interface DashboardSnapshotRequest {
  /** How many upcoming runs to include. @default 10 */
  nextRunsLimit?: number;
  /** Include the run history. @default true */
  runs?: boolean;
}

/**
 * Where a dashboard reads from: a snapshot of everything, then batches of
 * changes. `createLocalDashboardSource(manager)` makes one for a manager in
 * this process; a source can equally merge several instances (through a
 * shared store) as long as it keeps this contract, which
 * `describeDashboardSourceConformance` from `@taskbuffer/dashboard/testing`
 * checks.
 */
export interface DashboardSource {
  /** Everything at this moment. May answer later (a remote store). */
  getSnapshot(request?: DashboardSnapshotRequest): DashboardSnapshot | Promise<DashboardSnapshot>;
  /** Starts delivering batches of changes until `unsubscribe()`. */
  subscribe(listener: DashboardSourceListener): DashboardSubscription;
  /**
   * Starts a run of a task, when the source can. Rejects with a `TaskNotFoundError`-like
   * error (any error with `name === 'TaskNotFoundError'`) for an unknown task.
   */
  trigger?(taskName: string): Promise<void> | void;
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
export function toDashboardEvent(event: ITaskEvent, instanceId?: string): DashboardEvent {
  const entry: DashboardEvent = { type: event.type, taskName: event.task.name, timestamp: event.timestamp };
  if (instanceId !== undefined) entry.instanceId = instanceId;
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
export function getConstraintGroupSnapshots(source: DashboardManager): ConstraintGroupSnapshot[] {
  const snapshots: ConstraintGroupSnapshot[] = [];
  for (const group of source.constraintGroups ?? []) {
    const snapshot = group.getSnapshot?.();
    if (snapshot !== undefined) snapshots.push(snapshot);
  }
  return snapshots;
}

/** Takes a snapshot of everything the dashboard shows. */
export function createSnapshot(source: DashboardManager, options: SnapshotOptions = {}): DashboardSnapshot {
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
    protocol: DASHBOARD_PROTOCOL_VERSION,
    time: options.time ?? Date.now(),
    tasks: source.getAllTasksMetadata().map(toDashboardTask),
    scheduled,
    nextRuns,
    constraintGroups: getConstraintGroupSnapshots(source),
    actions: options.actions ?? {},
  };
}
