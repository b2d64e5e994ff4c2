import type { ConstraintGroupSnapshot, ConstraintKeySnapshot } from '@taskbuffer/core';
import {
  DASHBOARD_PROTOCOL,
  type DashboardInstanceState,
  type MergedSnapshot,
  type MergedUpdate,
  type RelayedEvent,
  type RelayedRun,
  type RelayedScheduledRun,
  type RelayedScheduledTask,
  type RelayedTask,
} from './dashboard-types.js';
import type { PresenceRecord } from './relay-format.js';

/** One instance's batch of changes, its events folded into runs. */
export interface ViewBatch {
  /** Epoch ms (the instance's clock). */
  time: number;
  tasks: RelayedTask[];
  events: RelayedEvent[];
  /** Runs that began or changed, in their newest state. */
  runs: RelayedRun[];
  droppedEvents: number;
  constraintGroups?: ConstraintGroupSnapshot[];
}

/** Options of {@link ClusterView}. */
export interface ClusterViewOptions {
  /** Runs kept per task over all instances. */
  runsPerTask: number;
  /** Runs kept over all tasks. */
  maxRuns: number;
  /** How long a gone instance stays listed (with its tasks). */
  forgetAfterMs: number;
  /** The most events one update carries; the rest are counted. */
  maxEventsPerUpdate: number;
}

interface InstanceEntry {
  state: DashboardInstanceState;
  /** Each task's newest metadata and the instance's time of it. */
  tasks: Map<string, { task: RelayedTask; time: number }>;
  scheduled: RelayedScheduledTask[];
  nextRuns: RelayedScheduledRun[];
  constraintGroups: ConstraintGroupSnapshot[];
  /** When (this process's clock) it went; for forgetting it. */
  goneAt?: number;
}

/** Merges what one task looks like on several instances into one row. */
export function mergeTask(copies: ReadonlyArray<{ task: RelayedTask; instanceId: string }>): RelayedTask {
  const instances = copies.map((copy) => copy.instanceId).sort();
  if (copies.length === 1) return { ...copies[0]!.task, instances };
  // The copy that ran last speaks for the task; a running copy shows its progress.
  let latest = copies[0]!.task;
  let running: RelayedTask | undefined;
  let runCount = 0;
  let errorCount = 0;
  let weighted = 0;
  let timed = 0;
  let nextRun: number | undefined;
  let lastError: { time: number; message: string } | undefined;
  for (const { task } of copies) {
    if ((task.lastRun ?? -Infinity) > (latest.lastRun ?? -Infinity)) latest = task;
    if (task.status === 'running' && running === undefined) running = task;
    runCount += task.runCount;
    errorCount += task.errorCount;
    if (task.averageDuration !== undefined && task.runCount > 0) {
      weighted += task.averageDuration * task.runCount;
      timed += task.runCount;
    }
    if (task.nextRun !== undefined && (nextRun === undefined || task.nextRun < nextRun)) nextRun = task.nextRun;
    if (task.lastError !== undefined && (lastError === undefined || (task.lastRun ?? 0) > lastError.time)) {
      lastError = { time: task.lastRun ?? 0, message: task.lastError };
    }
  }
  const base = running ?? latest;
  const merged: RelayedTask = { ...base, status: base.status, runCount, errorCount, instances };
  if (latest.lastRun !== undefined) merged.lastRun = latest.lastRun;
  if (timed > 0) merged.averageDuration = weighted / timed;
  if (nextRun === undefined) delete merged.nextRun;
  else merged.nextRun = nextRun;
  if (lastError === undefined) delete merged.lastError;
  else merged.lastError = lastError.message;
  return merged;
}

/**
 * Constraint groups of the same name on several instances, as one: each
 * key's running and waiting triggers added up, its longest cooldown kept.
 */
export function mergeConstraintGroups(lists: ReadonlyArray<readonly ConstraintGroupSnapshot[]>): ConstraintGroupSnapshot[] {
  const groups = new Map<string, { group: ConstraintGroupSnapshot; keys: Map<string, ConstraintKeySnapshot> }>();
  for (const list of lists) {
    for (const group of list) {
      let entry = groups.get(group.name);
      if (entry === undefined) {
        entry = { group: { ...group, keys: [] }, keys: new Map() };
        groups.set(group.name, entry);
      }
      for (const key of Array.isArray(group.keys) ? group.keys : []) {
        const known = entry.keys.get(key.key);
        if (known === undefined) entry.keys.set(key.key, { ...key });
        else {
          known.running += key.running;
          known.queued += key.queued;
          known.cooldownRemainingMs = Math.max(known.cooldownRemainingMs, key.cooldownRemainingMs);
        }
      }
    }
  }
  return [...groups.values()].map(({ group, keys }) => ({ ...group, keys: [...keys.values()] }));
}

function runTime(run: RelayedRun): number {
  return run.startedAt ?? run.queuedAt ?? run.endedAt ?? 0;
}

/**
 * What the merged dashboard knows of a cluster: every instance's presence,
 * tasks, schedules and groups, the runs of all of them (a ring per task under
 * a total cap), and the changes since the last update. Pure: fed by
 * `RedisDashboardSource` with what it reads from Redis.
 */
export class ClusterView {
  readonly #options: ClusterViewOptions;
  readonly #instances = new Map<string, InstanceEntry>();
  readonly #runs = new Map<string, RelayedRun[]>();
  readonly #runIndex = new Map<string, RelayedRun>();
  // Run ids in the order they were first kept, for the total cap; evicted ids are skipped lazily.
  #order: string[] = [];
  #orderHead = 0;
  // Changes since the last `takeUpdate()`.
  #changedTasks = new Set<string>();
  #changedRuns = new Map<string, RelayedRun>();
  #events: RelayedEvent[] = [];
  #droppedEvents = 0;
  #instancesChanged = false;
  #groupsChanged = false;

  constructor(options: ClusterViewOptions) {
    this.#options = options;
  }

  /** Every instance, sorted by id. */
  instances(): DashboardInstanceState[] {
    return [...this.#instances.values()].map((entry) => ({ ...entry.state })).sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /** The ids of live instances. */
  liveIds(): string[] {
    return [...this.#instances.values()].filter((entry) => entry.state.status === 'live').map((entry) => entry.state.id);
  }

  /** Whether the instance is live and has the task. */
  has(instanceId: string, taskName: string): boolean {
    return this.#instances.get(instanceId)?.tasks.has(taskName) === true;
  }

  /** Takes an instance's presence record: it is live, and has what the record lists. */
  applyPresence(record: PresenceRecord, now: number): void {
    const entry = this.#instance(record.id, now);
    if (entry.state.status !== 'live' || entry.state.triggers !== record.triggers) this.#instancesChanged = true;
    entry.state.status = 'live';
    entry.state.triggers = record.triggers;
    entry.state.lastSeen = now;
    delete entry.goneAt;
    const listed = new Set<string>();
    for (const task of record.tasks) {
      listed.add(task.name);
      this.#setTask(entry, task, record.time);
    }
    for (const [name, known] of entry.tasks) {
      // Removed from the instance, unless a newer batch says it is still there.
      if (!listed.has(name) && known.time <= record.time) {
        entry.tasks.delete(name);
        this.#changedTasks.add(name);
      }
    }
    if (JSON.stringify(entry.scheduled) !== JSON.stringify(record.scheduled)) entry.scheduled = record.scheduled;
    entry.nextRuns = record.nextRuns;
    if (JSON.stringify(entry.constraintGroups) !== JSON.stringify(record.constraintGroups)) {
      entry.constraintGroups = record.constraintGroups;
      this.#groupsChanged = true;
    }
  }

  /** An instance whose presence is gone (expired or left). */
  markGone(instanceId: string, now: number): void {
    const entry = this.#instances.get(instanceId);
    if (entry === undefined || entry.state.status === 'gone') return;
    entry.state.status = 'gone';
    entry.goneAt = now;
    this.#instancesChanged = true;
    for (const name of entry.tasks.keys()) this.#changedTasks.add(name);
  }

  /** Forgets instances gone for longer than `forgetAfterMs`, with their tasks. */
  forgetGone(now: number): void {
    for (const [id, entry] of this.#instances) {
      if (entry.goneAt === undefined || now - entry.goneAt < this.#options.forgetAfterMs) continue;
      this.#instances.delete(id);
      this.#instancesChanged = true;
      this.#groupsChanged = true;
      for (const name of entry.tasks.keys()) this.#changedTasks.add(name);
    }
  }

  /** Takes one batch an instance wrote. An instance without presence is listed as gone until its presence shows. */
  applyBatch(instanceId: string, batch: ViewBatch, now: number): void {
    const entry = this.#instance(instanceId, now);
    for (const task of batch.tasks) this.#setTask(entry, task, batch.time);
    for (const run of batch.runs) this.#upsertRun({ ...run, instanceId });
    for (const event of batch.events) this.#events.push({ ...event, instanceId });
    this.#droppedEvents += batch.droppedEvents;
    const excess = this.#events.length - this.#options.maxEventsPerUpdate;
    if (excess > 0) {
      this.#events.splice(0, excess);
      this.#droppedEvents += excess;
    }
    if (batch.constraintGroups !== undefined) {
      entry.constraintGroups = batch.constraintGroups;
      this.#groupsChanged = true;
    }
  }

  /** Forgets pending changes (nobody watches; a watcher starts from a snapshot). */
  clearChanges(): void {
    this.#changedTasks.clear();
    this.#changedRuns.clear();
    this.#events = [];
    this.#droppedEvents = 0;
    this.#instancesChanged = false;
    this.#groupsChanged = false;
  }

  /** The changes since the last call, as one update; `undefined` when there are none. */
  takeUpdate(now: number): MergedUpdate | undefined {
    if (
      this.#changedTasks.size === 0 &&
      this.#changedRuns.size === 0 &&
      this.#events.length === 0 &&
      this.#droppedEvents === 0 &&
      !this.#instancesChanged &&
      !this.#groupsChanged
    ) {
      return undefined;
    }
    const tasks: RelayedTask[] = [];
    for (const name of this.#changedTasks) {
      const task = this.#mergedTask(name);
      if (task !== undefined) tasks.push(task);
    }
    const update: MergedUpdate = {
      protocol: DASHBOARD_PROTOCOL,
      time: now,
      tasks,
      events: this.#events,
      droppedEvents: this.#droppedEvents,
    };
    if (this.#changedRuns.size > 0) update.runs = [...this.#changedRuns.values()].map((run) => ({ ...run }));
    if (this.#instancesChanged) update.instances = this.instances();
    if (this.#groupsChanged) update.constraintGroups = this.#mergedGroups();
    this.clearChanges();
    return update;
  }

  /** Everything, merged. */
  snapshot(now: number, options: { nextRunsLimit: number; runs: boolean; runsPerTask: number }): MergedSnapshot {
    const names = new Set<string>();
    for (const entry of this.#instances.values()) for (const name of entry.tasks.keys()) names.add(name);
    const tasks: RelayedTask[] = [];
    for (const name of names) tasks.push(this.#mergedTask(name)!);
    const scheduled = new Map<string, RelayedScheduledTask>();
    const nextRuns = new Map<string, RelayedScheduledRun>();
    for (const entry of this.#instances.values()) {
      if (entry.state.status !== 'live') continue;
      for (const item of entry.scheduled) {
        const known = scheduled.get(item.name);
        if (known === undefined || (item.nextRun !== undefined && (known.nextRun ?? Infinity) > item.nextRun)) {
          scheduled.set(item.name, item);
        }
      }
      for (const run of entry.nextRuns) nextRuns.set(`${run.taskName}\u0000${run.nextRun}`, run);
    }
    const snapshot: MergedSnapshot = {
      protocol: DASHBOARD_PROTOCOL,
      time: now,
      tasks,
      scheduled: [...scheduled.values()],
      nextRuns: [...nextRuns.values()].sort((a, b) => a.nextRun - b.nextRun).slice(0, options.nextRunsLimit),
      constraintGroups: this.#mergedGroups(),
      actions: {},
      instances: this.instances(),
    };
    if (options.runs) {
      const runs: RelayedRun[] = [];
      for (const list of this.#runs.values()) {
        // Runs of several instances arrive interleaved; each task's runs go out oldest first.
        const sorted = [...list].sort((a, b) => runTime(a) - runTime(b));
        for (const run of sorted) runs.push({ ...run });
      }
      snapshot.runs = runs;
      snapshot.runsPerTask = options.runsPerTask;
    }
    return snapshot;
  }

  #instance(id: string, now: number): InstanceEntry {
    let entry = this.#instances.get(id);
    if (entry === undefined) {
      entry = {
        state: { id, status: 'gone', lastSeen: now, triggers: false },
        tasks: new Map(),
        scheduled: [],
        nextRuns: [],
        constraintGroups: [],
        goneAt: now,
      };
      this.#instances.set(id, entry);
      this.#instancesChanged = true;
    }
    return entry;
  }

  #setTask(entry: InstanceEntry, task: RelayedTask, time: number): void {
    const known = entry.tasks.get(task.name);
    if (known !== undefined && known.time > time) return;
    entry.tasks.set(task.name, { task, time });
    if (known === undefined || JSON.stringify(known.task) !== JSON.stringify(task)) this.#changedTasks.add(task.name);
  }

  #mergedTask(name: string): RelayedTask | undefined {
    const copies: { task: RelayedTask; instanceId: string }[] = [];
    for (const entry of this.#instances.values()) {
      const known = entry.tasks.get(name);
      if (known !== undefined) copies.push({ task: known.task, instanceId: entry.state.id });
    }
    return copies.length === 0 ? undefined : mergeTask(copies);
  }

  #mergedGroups(): ConstraintGroupSnapshot[] {
    const lists: ConstraintGroupSnapshot[][] = [];
    for (const entry of this.#instances.values()) if (entry.state.status === 'live') lists.push(entry.constraintGroups);
    return mergeConstraintGroups(lists);
  }

  #upsertRun(run: RelayedRun): void {
    const { runsPerTask, maxRuns } = this.#options;
    if (runsPerTask === 0 || maxRuns === 0) return;
    this.#changedRuns.set(run.id, run);
    const known = this.#runIndex.get(run.id);
    let list = this.#runs.get(run.taskName);
    if (known !== undefined && list !== undefined) {
      // A changed run is almost always one of the newest: search from the end.
      let index = list.length - 1;
      while (index >= 0 && list[index]!.id !== run.id) index--;
      if (index >= 0) list[index] = run;
      this.#runIndex.set(run.id, run);
      return;
    }
    if (list === undefined) {
      list = [];
      this.#runs.set(run.taskName, list);
    }
    list.push(run);
    this.#runIndex.set(run.id, run);
    this.#order.push(run.id);
    if (list.length > runsPerTask) this.#runIndex.delete(list.shift()!.id);
    while (this.#runIndex.size > maxRuns && this.#orderHead < this.#order.length) {
      const id = this.#order[this.#orderHead++]!;
      const victim = this.#runIndex.get(id);
      if (victim === undefined) continue;
      this.#runIndex.delete(id);
      const victims = this.#runs.get(victim.taskName);
      if (victims !== undefined) {
        const index = victims.indexOf(victim);
        if (index >= 0) victims.splice(index, 1);
        if (victims.length === 0) this.#runs.delete(victim.taskName);
      }
    }
    if (this.#orderHead > 1024 && this.#orderHead * 2 > this.#order.length) {
      this.#order = this.#order.slice(this.#orderHead).filter((id) => this.#runIndex.has(id));
      this.#orderHead = 0;
    }
  }
}
