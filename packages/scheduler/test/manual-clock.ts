import type { SchedulerClock } from '../src/cron-scheduler.js';

interface ManualTimer {
  at: number;
  callback: () => void;
  unref: boolean;
}

/**
 * A clock for tests that separates the wall clock (`now`) from process time
 * (`monotonicNow`), so that a busy event loop, a suspend and a clock change
 * can each be played out.
 */
export class ManualClock implements SchedulerClock {
  wall: number;
  monotonic = 0;
  /** Every delay ever asked of `setTimeout`. */
  readonly delays: number[] = [];
  readonly #timers = new Map<number, ManualTimer>();
  #nextId = 1;

  constructor(start: number | string) {
    this.wall = typeof start === 'string' ? Date.parse(start) : start;
  }

  now(): number {
    return this.wall;
  }

  monotonicNow(): number {
    return this.monotonic;
  }

  setTimeout(callback: () => void, delay: number, options?: { unref?: boolean }): number {
    const id = this.#nextId++;
    this.#timers.set(id, { at: this.monotonic + delay, callback, unref: options?.unref === true });
    this.delays.push(delay);
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** Timers armed and not yet fired or cleared. */
  get pending(): ManualTimer[] {
    return [...this.#timers.values()];
  }

  /**
   * Lets `ms` of process time pass, firing timers at their times; the wall
   * clock follows. Promise callbacks run between timers, as in Node.
   */
  async advance(ms: number): Promise<void> {
    const end = this.monotonic + ms;
    for (;;) {
      let nextId: number | undefined;
      let next: ManualTimer | undefined;
      for (const [id, timer] of this.#timers) {
        if (timer.at <= end && (next === undefined || timer.at < next.at)) {
          next = timer;
          nextId = id;
        }
      }
      if (next === undefined || nextId === undefined) break;
      const step = Math.max(0, next.at - this.monotonic);
      this.monotonic += step;
      this.wall += step;
      this.#timers.delete(nextId);
      next.callback();
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.wall += end - this.monotonic;
    this.monotonic = end;
  }

  /** The event loop is blocked for `ms`: time passes and no timer fires until the next `advance`. */
  block(ms: number): void {
    this.monotonic += ms;
    this.wall += ms;
  }

  /** The wall clock jumps by `ms` (a suspend, or the clock being set); process time stands still. */
  jump(ms: number): void {
    this.wall += ms;
  }
}
