/** An opaque handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/**
 * The one seam through which the library reads time and sets timers, so that
 * tests can swap it (or use fake timers, which the default clock follows).
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Calls `callback` after `delay` ms; the timer must not keep the process alive when `unref` is true.
   * Delays above 2³¹−1 ms (about 24.8 days) must be honoured, not cut short.
   */
  setTimeout(callback: () => void, delay: number, options?: { unref?: boolean }): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The longest delay a host timer takes; a longer one fires after 1 ms, with a warning. */
const MAX_TIMER_DELAY = 2 ** 31 - 1;

/** A wait longer than one host timer can hold: a chain of timers, each as long as allowed. */
class LongTimeout {
  handle: ReturnType<typeof globalThis.setTimeout> | undefined;
  remaining: number;
  readonly callback: () => void;
  readonly unref: boolean;

  constructor(callback: () => void, delay: number, unref: boolean) {
    this.callback = callback;
    this.remaining = delay;
    this.unref = unref;
    this.arm();
  }

  arm(): void {
    const delay = Math.min(this.remaining, MAX_TIMER_DELAY);
    this.remaining -= delay;
    this.handle = startTimer(() => (this.remaining > 0 ? this.arm() : this.callback()), delay, this.unref);
  }
}

function startTimer(callback: () => void, delay: number, unref: boolean): ReturnType<typeof globalThis.setTimeout> {
  const handle = globalThis.setTimeout(callback, delay);
  if (unref && typeof handle === 'object' && handle !== null && 'unref' in handle) {
    (handle as { unref(): void }).unref();
  }
  return handle;
}

/**
 * The clock of the host: `Date.now` and the global timers, looked up at call
 * time. Delays above 2³¹−1 ms run as a chain of host timers, so they never
 * fire early.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(callback, delay, options) {
    const unref = options?.unref === true;
    return delay > MAX_TIMER_DELAY ? new LongTimeout(callback, delay, unref) : startTimer(callback, delay, unref);
  },
  clearTimeout(handle) {
    if (handle instanceof LongTimeout) {
      globalThis.clearTimeout(handle.handle);
      handle.remaining = 0;
      handle.handle = undefined;
      return;
    }
    globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>);
  },
};
