import type { ConstraintGroupSnapshot } from '@taskbuffer/core';
import type {
  DashboardActions,
  DashboardEvent,
  DashboardInstance,
  DashboardRun,
  DashboardScheduledRun,
  DashboardScheduledTask,
  DashboardSnapshot,
  DashboardTask,
  DashboardUpdate,
} from './protocol.js';

/** A label filter: `key=value`, or `key` for any value. */
export interface LabelFilter {
  key: string;
  value?: string;
}

/** Parses `"tenantId=acme"` (or `"tenantId"`); `undefined` for an empty filter. */
export function parseLabelFilter(text: string | null | undefined): LabelFilter | undefined {
  const trimmed = text?.trim();
  if (!trimmed) return undefined;
  const index = trimmed.indexOf('=');
  if (index === -1) return { key: trimmed };
  return { key: trimmed.slice(0, index).trim(), value: trimmed.slice(index + 1).trim() };
}

/** Whether a task carries the filter's label. */
export function matchesLabel(task: DashboardTask, filter: LabelFilter | undefined): boolean {
  if (filter === undefined) return true;
  if (!Object.hasOwn(task.labels, filter.key)) return false;
  return filter.value === undefined || task.labels[filter.key] === filter.value;
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) if (a[key] !== b[key]) return false;
  return true;
}

function sameList(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  for (let index = 0; index < a.length; index++) if (a[index] !== b[index]) return false;
  return true;
}

/** Whether two snapshots of one task would render the same. */
export function sameTask(a: DashboardTask, b: DashboardTask): boolean {
  if (
    a.status !== b.status ||
    a.currentProgress !== b.currentProgress ||
    a.currentStep !== b.currentStep ||
    a.runCount !== b.runCount ||
    a.errorCount !== b.errorCount ||
    a.lastRun !== b.lastRun ||
    a.nextRun !== b.nextRun ||
    a.lastError !== b.lastError ||
    a.averageDuration !== b.averageDuration ||
    a.cronSchedule !== b.cronSchedule ||
    a.steps.length !== b.steps.length ||
    !sameLabels(a.labels, b.labels) ||
    !sameList(a.instances, b.instances)
  ) {
    return false;
  }
  for (let index = 0; index < a.steps.length; index++) {
    if (a.steps[index]!.status !== b.steps[index]!.status) return false;
  }
  return true;
}

/**
 * What the dashboard shows, kept between renders. Unchanged tasks keep their
 * object identity across snapshots, so a render can skip their rows.
 */
export class DashboardState {
  #tasks = new Map<string, DashboardTask>();
  #taskList: DashboardTask[] | undefined;
  #history: DashboardEvent[] = [];
  #historySize: number;
  #droppedEvents = 0;
  scheduled: DashboardScheduledTask[] = [];
  nextRuns: DashboardScheduledRun[] = [];
  constraintGroups: ConstraintGroupSnapshot[] = [];
  /** Epoch ms of the data in `constraintGroups`; cooldowns count down from here. */
  constraintGroupsTime = 0;
  actions: DashboardActions = {};
  /** The instances of a cluster, from a source that merges several; empty for a single manager. */
  instances: DashboardInstance[] = [];
  /** Grows with every change; a view can compare it to skip work. */
  version = 0;
  /** Grows with every change of the runs. */
  runsVersion = 0;
  #runs = new Map<string, DashboardRun[]>();
  #runsPerTask = 200;

  constructor(historySize = 50) {
    this.#historySize = historySize;
  }

  get historySize(): number {
    return this.#historySize;
  }

  set historySize(size: number) {
    this.#historySize = size;
    this.#trimHistory();
  }

  /** Every task, in the order the manager lists them (new ones last). */
  get tasks(): readonly DashboardTask[] {
    this.#taskList ??= [...this.#tasks.values()];
    return this.#taskList;
  }

  /** Recent events, oldest first. */
  get history(): readonly DashboardEvent[] {
    return this.#history;
  }

  /** How many events were never seen because a burst was coalesced. */
  get droppedEvents(): number {
    return this.#droppedEvents;
  }

  /** Runs kept per task (the server's figure, once a snapshot said it). */
  get runsPerTask(): number {
    return this.#runsPerTask;
  }

  /** The runs of a task, oldest first. */
  runsOf(name: string): readonly DashboardRun[] {
    return this.#runs.get(name) ?? [];
  }

  /** How many runs are kept over all tasks. */
  get runCount(): number {
    let count = 0;
    for (const runs of this.#runs.values()) count += runs.length;
    return count;
  }

  /** Every instance the source lists or runs came from, sorted. */
  instanceIds(): string[] {
    const ids = new Set<string>(this.instances.map((instance) => instance.id));
    for (const runs of this.#runs.values()) for (const run of runs) if (run.instanceId !== undefined) ids.add(run.instanceId);
    return [...ids].sort();
  }

  /**
   * Whether a task can be triggered from the page: always for a single
   * manager; in a cluster, when a live instance that takes triggers has it.
   */
  canTrigger(task: DashboardTask): boolean {
    if (this.actions.trigger === undefined) return false;
    if (task.instances === undefined || this.instances.length === 0) return true;
    return this.instances.some(
      (instance) => instance.status === 'live' && instance.triggers && task.instances!.includes(instance.id),
    );
  }

  getTask(name: string): DashboardTask | undefined {
    return this.#tasks.get(name);
  }

  /** Every `key=value` label pair among the tasks, sorted. */
  labelPairs(): string[] {
    const pairs = new Set<string>();
    for (const task of this.#tasks.values()) {
      for (const [key, value] of Object.entries(task.labels)) pairs.add(`${key}=${value}`);
    }
    return [...pairs].sort();
  }

  /** Replaces everything with a snapshot; removed tasks disappear. */
  applySnapshot(snapshot: DashboardSnapshot): void {
    const tasks = new Map<string, DashboardTask>();
    for (const task of snapshot.tasks) {
      const previous = this.#tasks.get(task.name);
      tasks.set(task.name, previous !== undefined && sameTask(previous, task) ? previous : task);
    }
    this.#tasks = tasks;
    this.#taskList = undefined;
    this.scheduled = snapshot.scheduled;
    this.nextRuns = snapshot.nextRuns;
    this.constraintGroups = snapshot.constraintGroups;
    this.constraintGroupsTime = snapshot.time;
    this.actions = snapshot.actions;
    this.instances = snapshot.instances ?? [];
    if (snapshot.runsPerTask !== undefined) this.#runsPerTask = snapshot.runsPerTask;
    if (snapshot.runs !== undefined) {
      this.#runs = new Map();
      this.#upsertRuns(snapshot.runs);
    }
    this.version++;
  }

  /** Applies the newest metadata and events of a batch. */
  applyUpdate(update: DashboardUpdate): void {
    let changed = false;
    for (const task of update.tasks) {
      const previous = this.#tasks.get(task.name);
      if (previous !== undefined && sameTask(previous, task)) continue;
      this.#tasks.set(task.name, task);
      changed = true;
    }
    if (changed) this.#taskList = undefined;
    if (update.events.length > 0) {
      this.#history.push(...update.events);
      this.#trimHistory();
    }
    this.#droppedEvents += update.droppedEvents;
    if (update.constraintGroups !== undefined) {
      this.constraintGroups = update.constraintGroups;
      this.constraintGroupsTime = update.time;
    }
    if (update.runs !== undefined && update.runs.length > 0) this.#upsertRuns(update.runs);
    if (update.instances !== undefined) this.instances = update.instances;
    this.version++;
  }

  #upsertRuns(runs: readonly DashboardRun[]): void {
    for (const run of runs) {
      let list = this.#runs.get(run.taskName);
      if (list === undefined) {
        list = [];
        this.#runs.set(run.taskName, list);
      }
      // A changed run is almost always one of the newest: search from the end.
      let index = list.length - 1;
      while (index >= 0 && list[index]!.id !== run.id) index--;
      if (index >= 0) list[index] = run;
      else {
        list.push(run);
        if (list.length > this.#runsPerTask) list.splice(0, list.length - this.#runsPerTask);
      }
    }
    this.runsVersion++;
  }

  /** Forgets everything (another source is being watched). */
  reset(): void {
    this.#tasks = new Map();
    this.#taskList = undefined;
    this.#history = [];
    this.#droppedEvents = 0;
    this.scheduled = [];
    this.nextRuns = [];
    this.constraintGroups = [];
    this.constraintGroupsTime = 0;
    this.actions = {};
    this.instances = [];
    this.#runs = new Map();
    this.runsVersion++;
    this.version++;
  }

  #trimHistory(): void {
    const excess = this.#history.length - this.#historySize;
    if (excess > 0) this.#history.splice(0, excess);
  }
}
