import type { ITaskEvent, ITaskMetadata } from '@taskbuffer/core';
import { invalidOption } from './errors.js';
import {
  DASHBOARD_PROTOCOL_VERSION,
  type DashboardEvent,
  type DashboardUpdate,
  toDashboardEvent,
  toDashboardTask,
} from './protocol.js';

/** Runs `callback` later; returns a function that cancels it. */
export type FlushScheduler = (callback: () => void) => () => void;

/** Options of {@link EventCoalescer}. */
export interface EventCoalescerOptions {
  /** Receives one update per batch. */
  onFlush: (update: DashboardUpdate) => void;
  /** Decides when a batch is flushed, counted from its first event. */
  schedule: FlushScheduler;
  /** How many events of one batch are kept; older ones are counted in `droppedEvents`. @default 100 */
  maxEvents?: number;
  /** @default Date.now */
  now?: () => number;
}

/**
 * Turns a burst of task events into one update: the newest metadata of each
 * task that had events, and the newest `maxEvents` events. Metadata is
 * converted once per task per batch, not once per event.
 */
export class EventCoalescer {
  readonly #onFlush: (update: DashboardUpdate) => void;
  readonly #schedule: FlushScheduler;
  readonly #maxEvents: number;
  readonly #now: () => number;
  #tasks = new Map<string, ITaskMetadata>();
  // A ring of the newest events: `#events[#start]` is the oldest kept.
  #events: DashboardEvent[] = [];
  #start = 0;
  #dropped = 0;
  #cancel: (() => void) | undefined;

  constructor(options: EventCoalescerOptions) {
    const maxEvents = options.maxEvents ?? 100;
    if (!Number.isInteger(maxEvents) || maxEvents < 0) {
      invalidOption('maxEvents', 'a non-negative integer', maxEvents);
    }
    this.#onFlush = options.onFlush;
    this.#schedule = options.schedule;
    this.#maxEvents = maxEvents;
    this.#now = options.now ?? Date.now;
  }

  /** Whether events wait for the next flush. */
  get pending(): boolean {
    return this.#cancel !== undefined;
  }

  /** Takes an event; `entry` is its JSON form when the caller has made it already. */
  push(event: ITaskEvent, entry?: DashboardEvent): void {
    // Re-inserting moves the task to the end, so an update lists tasks in the order they last changed.
    this.#tasks.delete(event.task.name);
    this.#tasks.set(event.task.name, event.task);
    if (this.#maxEvents > 0) {
      const converted = entry ?? toDashboardEvent(event);
      if (this.#events.length < this.#maxEvents) this.#events.push(converted);
      else {
        this.#events[this.#start] = converted;
        this.#start = (this.#start + 1) % this.#maxEvents;
        this.#dropped++;
      }
    } else this.#dropped++;
    this.#cancel ??= this.#schedule(this.flush);
  }

  /** Sends what is pending now (nothing when nothing is). */
  readonly flush = (): void => {
    const cancel = this.#cancel;
    this.#cancel = undefined;
    cancel?.();
    if (this.#tasks.size === 0) return;
    const tasks: DashboardUpdate['tasks'] = [];
    for (const metadata of this.#tasks.values()) tasks.push(toDashboardTask(metadata));
    const events =
      this.#start === 0 ? this.#events : [...this.#events.slice(this.#start), ...this.#events.slice(0, this.#start)];
    const update: DashboardUpdate = {
      protocol: DASHBOARD_PROTOCOL_VERSION,
      time: this.#now(),
      tasks,
      events,
      droppedEvents: this.#dropped,
    };
    this.#tasks = new Map();
    this.#events = [];
    this.#start = 0;
    this.#dropped = 0;
    this.#onFlush(update);
  };

  /** Drops what is pending and cancels the scheduled flush. */
  clear(): void {
    this.#cancel?.();
    this.#cancel = undefined;
    this.#tasks = new Map();
    this.#events = [];
    this.#start = 0;
    this.#dropped = 0;
  }
}
