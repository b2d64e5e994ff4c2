import type { ITaskEvent } from '@taskbuffer/core';
import { invalidOption } from './errors.js';
import { EventCoalescer, type FlushScheduler } from './event-coalescer.js';
import {
  type DashboardManager,
  type DashboardSnapshot,
  type DashboardSnapshotRequest,
  type DashboardSource,
  type DashboardSourceListener,
  type DashboardSubscription,
  createSnapshot,
  getConstraintGroupSnapshots,
  toDashboardEvent,
} from './protocol.js';
import { RunHistory } from './run-history.js';

/** Options of {@link createLocalDashboardSource}. */
export interface LocalDashboardSourceOptions {
  /** Events within this window go out as one update. @default 100 */
  coalesceMs?: number;
  /** Decides when a batch goes out instead of `coalesceMs` (the element uses animation frames). */
  schedule?: FlushScheduler;
  /** The most events one update carries; the rest are counted, not sent. @default 100 */
  maxEventsPerUpdate?: number;
  /** Runs kept per task in the run history; `0` keeps none. @default 200 */
  runsPerTask?: number;
  /** Runs kept over all tasks. @default 20000 */
  maxRuns?: number;
  /**
   * Record runs while nobody watches, so a page opened later sees the recent
   * past. `false` watches the manager only while someone watches the
   * dashboard: an unwatched dashboard then costs the manager nothing, and the
   * history holds only what happened while a page was open.
   * @default true
   */
  keepHistory?: boolean;
  /** Tags events and runs with an instance. @default manager.instanceId */
  instanceId?: string;
}

/** A {@link DashboardSource} for a manager in this process. */
export interface LocalDashboardSource extends DashboardSource {
  /** The run history (read-only use). */
  readonly history: RunHistory;
  /** Answers at once: the manager is in this process. */
  getSnapshot(request?: DashboardSnapshotRequest): DashboardSnapshot;
  /** Stops watching the manager and ends every subscription. */
  close(): void;
}

interface TriggerableManager extends DashboardManager {
  triggerTaskByName(name: string, input?: unknown): Promise<unknown>;
}

/** @internal Throws a `TypeError` naming `option` unless `manager` looks like a `TaskManager`. */
export function assertManager(manager: unknown, option: string): asserts manager is DashboardManager {
  const candidate = manager as Partial<DashboardManager> | null;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.getAllTasksMetadata !== 'function' ||
    typeof candidate.taskSubject?.subscribe !== 'function'
  ) {
    invalidOption(option, 'a TaskManager', manager);
  }
}

/** An error for a trigger of a task the source does not know. */
export class DashboardTaskNotFoundError extends Error {
  override readonly name = 'TaskNotFoundError';
  readonly taskName: string;

  constructor(taskName: string) {
    super(`No task named "${taskName}"`);
    this.taskName = taskName;
  }
}

/**
 * Makes the dashboard source of a manager in this process: snapshots read
 * from the manager, its events coalesced into updates, and a run history.
 *
 * @example
 * ```ts
 * const source = createLocalDashboardSource(manager, { runsPerTask: 500 });
 * const handler = createDashboardHandler({ source });
 * ```
 */
export function createLocalDashboardSource(
  manager: DashboardManager,
  options: LocalDashboardSourceOptions = {},
): LocalDashboardSource {
  assertManager(manager, 'manager');
  if (typeof options !== 'object' || options === null) invalidOption('options', 'an object', options);
  const coalesceMs = options.coalesceMs ?? 100;
  if (typeof coalesceMs !== 'number' || !Number.isFinite(coalesceMs) || coalesceMs < 0) {
    invalidOption('coalesceMs', 'a non-negative number of ms', coalesceMs);
  }
  if (options.schedule !== undefined && typeof options.schedule !== 'function') {
    invalidOption('schedule', 'a function `(flush) => cancel`', options.schedule);
  }
  const keepHistory = options.keepHistory ?? true;
  if (typeof keepHistory !== 'boolean') invalidOption('keepHistory', 'a boolean', keepHistory);
  const instanceId = options.instanceId ?? manager.instanceId;
  if (instanceId !== undefined && typeof instanceId !== 'string') {
    invalidOption('instanceId', 'a string', instanceId);
  }
  const history = new RunHistory({
    runsPerTask: options.runsPerTask,
    maxRuns: options.maxRuns,
    cooldownOf: (name) => {
      for (const group of manager.constraintGroups ?? []) {
        if (group.name === name) return group.cooldownMs;
      }
      return undefined;
    },
  });
  const recordRuns = history.runsPerTask > 0 && history.maxRuns > 0;
  const listeners = new Set<DashboardSourceListener>();
  const schedule: FlushScheduler =
    options.schedule ??
    ((callback) => {
      const timer = setTimeout(callback, coalesceMs);
      (timer as { unref?: () => void }).unref?.();
      return () => clearTimeout(timer);
    });
  const coalescer = new EventCoalescer({
    maxEvents: options.maxEventsPerUpdate ?? 100,
    schedule,
    onFlush: (update) => {
      if ((manager.constraintGroups?.length ?? 0) > 0) update.constraintGroups = getConstraintGroupSnapshots(manager);
      if (recordRuns) update.runs = history.takeChanges();
      for (const listener of [...listeners]) listener.update(update);
    },
  });

  let subscription: { unsubscribe(): void } | undefined;
  let closed = false;
  let stopped = false;
  // The manager's stop() resolves after the last task event: what is pending goes out, then the end.
  const stateSubscription = manager.stateChanges?.subscribe((state) => {
    stopped = state === 'stopped';
    if (!stopped || listeners.size === 0) return;
    coalescer.flush();
    for (const listener of [...listeners]) listener.stopped?.();
  });
  const onEvent = (event: ITaskEvent): void => {
    const entry = toDashboardEvent(event, instanceId);
    if (recordRuns) history.add(entry);
    if (listeners.size > 0) coalescer.push(event, entry);
  };
  const watch = (): void => {
    subscription ??= manager.taskSubject.subscribe(onEvent);
  };
  const unwatch = (): void => {
    subscription?.unsubscribe();
    subscription = undefined;
  };
  if (keepHistory && recordRuns) watch();

  const source: LocalDashboardSource = {
    history,
    getSnapshot(request: DashboardSnapshotRequest = {}): DashboardSnapshot {
      // Pending events belong to the picture being taken; the watchers get them first.
      coalescer.flush();
      const snapshot = createSnapshot(manager, { nextRunsLimit: request.nextRunsLimit ?? 10 });
      if (request.runs !== false) {
        snapshot.runs = history.runs();
        snapshot.runsPerTask = history.runsPerTask;
      }
      return snapshot;
    },
    subscribe(listener: DashboardSourceListener): DashboardSubscription {
      if (closed) throw new Error('This dashboard source is closed');
      if (listeners.size === 0) {
        // Changes from before are in the snapshot the watcher takes; only newer ones go out.
        history.takeChanges();
        watch();
      }
      listeners.add(listener);
      if (stopped) listener.stopped?.();
      return {
        unsubscribe: () => {
          if (!listeners.delete(listener) || listeners.size > 0) return;
          coalescer.clear();
          if (!keepHistory || !recordRuns) unwatch();
        },
      };
    },
    close(): void {
      closed = true;
      stateSubscription?.unsubscribe();
      listeners.clear();
      coalescer.clear();
      unwatch();
    },
  };
  if (typeof (manager as Partial<TriggerableManager>).triggerTaskByName === 'function') {
    source.trigger = (taskName: string): void => {
      if (!manager.getAllTasksMetadata().some((task) => task.name === taskName)) {
        throw new DashboardTaskNotFoundError(taskName);
      }
      // The run's outcome reaches watchers as events; the rejection is handled here so it is never unhandled.
      (manager as TriggerableManager).triggerTaskByName(taskName).catch(() => undefined);
    };
  }
  return source;
}
