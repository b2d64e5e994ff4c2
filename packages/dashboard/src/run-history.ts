import { invalidOption } from './errors.js';
import type { DashboardEvent, DashboardRun } from './protocol.js';

/** Options of {@link RunHistory}. */
export interface RunHistoryOptions {
  /** Runs kept per task; older ones are forgotten. @default 200 */
  runsPerTask?: number;
  /**
   * Runs kept over all tasks, so a manager with many tasks stays bounded;
   * the oldest run of any task goes first. @default 20000
   */
  maxRuns?: number;
  /** The cooldown of a constraint group, in ms, to tell a cooldown from a wait for a slot. */
  cooldownOf?: (group: string) => number | undefined;
}

interface TaskRuns {
  /** Kept runs, oldest first, from `head` on. */
  runs: DashboardRun[];
  head: number;
  /** Triggers waiting on a constraint group, oldest first. */
  waiting: DashboardRun[];
  /** Started runs that have not ended, oldest first. */
  open: DashboardRun[];
}

// A run is `cancelled` when core ended it with TaskAbortedError or TaskCancelledError.
const CANCELLED = /\bwas (aborted|cancelled)\b/;

/**
 * Folds task events into runs and keeps the newest of them: a ring per task
 * (`runsPerTask`) under a cap over all tasks (`maxRuns`).
 *
 * Events carry no run id, so events are matched to runs in order: a `started`
 * takes the oldest trigger waiting on a constraint group, a `completed` or
 * `failed` ends the oldest open run. When runs of one task overlap and end out
 * of order, the ends are paired with the wrong starts; the set of bars drawn
 * over time stays the same.
 */
export class RunHistory {
  readonly runsPerTask: number;
  readonly maxRuns: number;
  readonly #cooldownOf: ((group: string) => number | undefined) | undefined;
  #tasks = new Map<string, TaskRuns>();
  // Every kept run in the order it was created; evicted ones are skipped lazily.
  #order: DashboardRun[] = [];
  #orderHead = 0;
  #evicted = new WeakSet<DashboardRun>();
  #size = 0;
  #sequence = 0;
  #changed = new Set<DashboardRun>();

  constructor(options: RunHistoryOptions = {}) {
    const runsPerTask = options.runsPerTask ?? 200;
    if (!Number.isInteger(runsPerTask) || runsPerTask < 0) {
      invalidOption('runsPerTask', 'a non-negative integer', runsPerTask);
    }
    const maxRuns = options.maxRuns ?? 20_000;
    if (!Number.isInteger(maxRuns) || maxRuns < 0) invalidOption('maxRuns', 'a non-negative integer', maxRuns);
    this.runsPerTask = runsPerTask;
    this.maxRuns = maxRuns;
    this.#cooldownOf = options.cooldownOf;
  }

  /** How many runs are kept. */
  get size(): number {
    return this.#size;
  }

  /** Every kept run, oldest first per task, tasks in the order they first ran. */
  runs(): DashboardRun[] {
    const all: DashboardRun[] = [];
    for (const entry of this.#tasks.values()) {
      for (let index = entry.head; index < entry.runs.length; index++) all.push(entry.runs[index]!);
    }
    return all;
  }

  /** The kept runs of one task, oldest first. */
  runsOf(taskName: string): DashboardRun[] {
    const entry = this.#tasks.get(taskName);
    return entry === undefined ? [] : entry.runs.slice(entry.head);
  }

  /** Copies of the runs that began or changed since the last call. */
  takeChanges(): DashboardRun[] {
    if (this.#changed.size === 0) return [];
    const changes: DashboardRun[] = [];
    for (const run of this.#changed) if (!this.#evicted.has(run)) changes.push({ ...run });
    this.#changed.clear();
    return changes;
  }

  /** Forgets the runs of a task that is gone. */
  forget(taskName: string): void {
    const entry = this.#tasks.get(taskName);
    if (entry === undefined) return;
    for (let index = entry.head; index < entry.runs.length; index++) this.#evict(entry.runs[index]!);
    this.#tasks.delete(taskName);
  }

  /** Takes one event into the history. */
  add(event: DashboardEvent): void {
    if (this.runsPerTask === 0 || this.maxRuns === 0) return;
    const entry = this.#entry(event.taskName);
    switch (event.type) {
      case 'queued': {
        const run = this.#create(entry, event, 'queued');
        run.queuedAt = event.timestamp;
        if (event.constraintGroup !== undefined) {
          run.waitedOn = `${event.constraintGroup}:${event.constraintKey ?? ''}`;
          const cooldownMs = this.#cooldownOf?.(event.constraintGroup);
          if (cooldownMs !== undefined && cooldownMs > 0) run.cooldownMs = cooldownMs;
        }
        entry.waiting.push(run);
        break;
      }
      case 'started': {
        const run = entry.waiting.shift() ?? this.#create(entry, event, 'running');
        run.status = 'running';
        run.startedAt = event.timestamp;
        entry.open.push(run);
        this.#changed.add(run);
        break;
      }
      case 'retry': {
        const run = entry.open[0];
        if (run === undefined) break;
        run.attempt = event.attempt;
        if (event.error !== undefined) run.error = event.error;
        this.#changed.add(run);
        break;
      }
      case 'completed':
      case 'failed': {
        let run = entry.open.shift();
        if (run === undefined) {
          // The start was before the history began (or was evicted): a run with only its end.
          run = this.#create(entry, event, 'running');
        }
        run.endedAt = event.timestamp;
        if (event.type === 'completed') {
          run.status = 'completed';
          delete run.error;
        } else {
          run.status = event.error !== undefined && CANCELLED.test(event.error) ? 'cancelled' : 'failed';
          if (event.error !== undefined) run.error = event.error;
        }
        this.#changed.add(run);
        break;
      }
      case 'skipped': {
        // A waiting trigger refused by `shouldExecute` is that trigger's end; a tick never waited.
        const run =
          event.scheduledTime === undefined && entry.waiting.length > 0
            ? entry.waiting.shift()!
            : this.#create(entry, event, 'skipped');
        run.status = 'skipped';
        run.endedAt = event.timestamp;
        if (event.reason !== undefined) run.reason = event.reason;
        if (event.scheduledTime !== undefined) run.tick = event.scheduledTime;
        this.#changed.add(run);
        break;
      }
      default:
        break;
    }
  }

  #entry(taskName: string): TaskRuns {
    let entry = this.#tasks.get(taskName);
    if (entry === undefined) {
      entry = { runs: [], head: 0, waiting: [], open: [] };
      this.#tasks.set(taskName, entry);
    }
    return entry;
  }

  #create(entry: TaskRuns, event: DashboardEvent, status: DashboardRun['status']): DashboardRun {
    const id = String(++this.#sequence);
    const run: DashboardRun = {
      id: event.instanceId === undefined ? id : `${event.instanceId}:${id}`,
      taskName: event.taskName,
      status,
    };
    if (event.instanceId !== undefined) run.instanceId = event.instanceId;
    entry.runs.push(run);
    this.#order.push(run);
    this.#size++;
    this.#changed.add(run);
    if (entry.runs.length - entry.head > this.runsPerTask) {
      this.#evict(entry.runs[entry.head]!);
      entry.head++;
    }
    // Compact a task's array once its dropped prefix outweighs what is kept.
    if (entry.head > 64 && entry.head * 2 > entry.runs.length) {
      entry.runs = entry.runs.slice(entry.head);
      entry.head = 0;
    }
    while (this.#size > this.maxRuns) this.#evictOldest();
    return run;
  }

  #evict(run: DashboardRun): void {
    if (this.#evicted.has(run)) return;
    this.#evicted.add(run);
    this.#changed.delete(run);
    this.#size--;
  }

  #evictOldest(): void {
    while (this.#orderHead < this.#order.length) {
      const run = this.#order[this.#orderHead++]!;
      if (this.#evicted.has(run)) continue;
      const entry = this.#tasks.get(run.taskName)!;
      // Runs of a task are created in order, so the oldest overall is the first kept of its task.
      this.#evict(run);
      entry.head++;
      break;
    }
    if (this.#orderHead > 1024 && this.#orderHead * 2 > this.#order.length) {
      this.#order = this.#order.slice(this.#orderHead).filter((run) => !this.#evicted.has(run));
      this.#orderHead = 0;
    }
  }
}
