/**
 * One `abort` listener per signal, however many triggers wait on it.
 *
 * A caller may pass the same `AbortSignal` to thousands of concurrent
 * triggers. One `addEventListener` per trigger makes Node print a
 * `MaxListenersExceededWarning` past 10 and costs more the more listeners the
 * signal already has; here every trigger joins a set, and only the first one
 * of a signal touches the signal itself.
 */
const listenersBySignal = new WeakMap<AbortSignal, Set<() => void>>();

function dispatch(event: Event): void {
  const signal = event.target as AbortSignal;
  const listeners = listenersBySignal.get(signal);
  if (listeners === undefined) return;
  // A listener removed by an earlier one is skipped, as with `removeEventListener`.
  for (const listener of listeners) {
    listeners.delete(listener);
    try {
      listener();
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  }
  listenersBySignal.delete(signal);
}

/** Calls `listener` once when `signal` aborts. The caller checks `signal.aborted` first. */
export function addAbortListener(signal: AbortSignal, listener: () => void): void {
  let listeners = listenersBySignal.get(signal);
  if (listeners === undefined) {
    listeners = new Set();
    listenersBySignal.set(signal, listeners);
    signal.addEventListener('abort', dispatch, { once: true });
  }
  listeners.add(listener);
}

/** Forgets a listener added with {@link addAbortListener}. */
export function removeAbortListener(signal: AbortSignal, listener: () => void): void {
  const listeners = listenersBySignal.get(signal);
  if (listeners === undefined || !listeners.delete(listener) || listeners.size > 0) return;
  listenersBySignal.delete(signal);
  signal.removeEventListener('abort', dispatch);
}
