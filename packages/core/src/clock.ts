/** An opaque handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/**
 * The one seam through which the library reads time and sets timers, so that
 * tests can swap it (or use fake timers, which the default clock follows).
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `callback` after `delay` ms; the timer must not keep the process alive when `unref` is true. */
  setTimeout(callback: () => void, delay: number, options?: { unref?: boolean }): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The clock of the host: `Date.now` and the global timers, looked up at call time. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(callback, delay, options) {
    const handle = globalThis.setTimeout(callback, delay);
    if (options?.unref && typeof handle === 'object' && handle !== null && 'unref' in handle) {
      (handle as { unref(): void }).unref();
    }
    return handle;
  },
  clearTimeout(handle) {
    globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>);
  },
};
