import type { RelayedEvent, RelayedRun } from './dashboard-types.js';

interface OpenRuns {
  /** Triggers waiting on a constraint group, oldest first. */
  waiting: RelayedRun[];
  /** Started runs that have not ended, oldest first. */
  open: RelayedRun[];
}

// A run is `cancelled` when core ended it with TaskAbortedError or TaskCancelledError.
const CANCELLED = /\bwas (aborted|cancelled)\b/;

/**
 * Folds one instance's task events, in the order it emitted them, into runs,
 * the way the dashboard's `RunHistory` does (events carry no run id, so a
 * `started` takes the oldest waiting trigger and an end closes the oldest
 * open run), but keeps only the runs still under way: finished runs go out
 * once in `takeChanges()` and are forgotten here, because the reader keeps
 * them.
 */
export class RunTracker {
  readonly #prefix: string;
  readonly #cooldownOf: (group: string) => number | undefined;
  #tasks = new Map<string, OpenRuns>();
  #sequence = 0;
  #changed = new Map<string, RelayedRun>();

  /** `prefix` makes run ids unique across instances and restarts of one. */
  constructor(prefix: string, cooldownOf: (group: string) => number | undefined = () => undefined) {
    this.#prefix = prefix;
    this.#cooldownOf = cooldownOf;
  }

  /** How many runs changed since the last `takeChanges()`. */
  get pending(): number {
    return this.#changed.size;
  }

  /** Copies of the runs that began or changed since the last call, oldest change first. */
  takeChanges(): RelayedRun[] {
    if (this.#changed.size === 0) return [];
    const changes: RelayedRun[] = [];
    for (const run of this.#changed.values()) changes.push({ ...run });
    this.#changed.clear();
    return changes;
  }

  add(event: RelayedEvent, instanceId: string): void {
    let entry = this.#tasks.get(event.taskName);
    if (entry === undefined) {
      entry = { waiting: [], open: [] };
      this.#tasks.set(event.taskName, entry);
    }
    switch (event.type) {
      case 'queued': {
        const run = this.#create(event, 'queued', instanceId);
        run.queuedAt = event.timestamp;
        if (event.constraintGroup !== undefined) {
          run.waitedOn = `${event.constraintGroup}:${event.constraintKey ?? ''}`;
          const cooldownMs = this.#cooldownOf(event.constraintGroup);
          if (cooldownMs !== undefined && cooldownMs > 0) run.cooldownMs = cooldownMs;
        }
        entry.waiting.push(run);
        break;
      }
      case 'started': {
        const run = entry.waiting.shift() ?? this.#create(event, 'running', instanceId);
        run.status = 'running';
        run.startedAt = event.timestamp;
        entry.open.push(run);
        this.#changed.set(run.id, run);
        break;
      }
      case 'retry': {
        const run = entry.open[0];
        if (run === undefined) break;
        run.attempt = event.attempt;
        if (event.error !== undefined) run.error = event.error;
        this.#changed.set(run.id, run);
        break;
      }
      case 'completed':
      case 'failed': {
        // Without an open run the start was before the relay began: a run with only its end.
        const run = entry.open.shift() ?? this.#create(event, 'running', instanceId);
        run.endedAt = event.timestamp;
        if (event.type === 'completed') {
          run.status = 'completed';
          delete run.error;
        } else {
          run.status = event.error !== undefined && CANCELLED.test(event.error) ? 'cancelled' : 'failed';
          if (event.error !== undefined) run.error = event.error;
        }
        this.#changed.set(run.id, run);
        break;
      }
      case 'skipped': {
        // A waiting trigger refused by `shouldExecute` is that trigger's end; a tick never waited.
        const run =
          event.scheduledTime === undefined && entry.waiting.length > 0
            ? entry.waiting.shift()!
            : this.#create(event, 'skipped', instanceId);
        run.status = 'skipped';
        run.endedAt = event.timestamp;
        if (event.reason !== undefined) run.reason = event.reason;
        if (event.scheduledTime !== undefined) run.tick = event.scheduledTime;
        this.#changed.set(run.id, run);
        break;
      }
      default:
        break;
    }
    if (entry.waiting.length === 0 && entry.open.length === 0) this.#tasks.delete(event.taskName);
  }

  #create(event: RelayedEvent, status: RelayedRun['status'], instanceId: string): RelayedRun {
    const run: RelayedRun = { id: `${this.#prefix}.${++this.#sequence}`, taskName: event.taskName, status, instanceId };
    this.#changed.set(run.id, run);
    return run;
  }
}
