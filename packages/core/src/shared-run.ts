import { addAbortListener, removeAbortListener } from './abort-listeners.js';
import { TaskAbortedError } from './errors.js';
import type { Deferred } from './internal.js';
import type { ITriggerOptions } from './types.js';

/** A caller of a run that other callers may share (a buffered call, a debounce period). */
export interface SharedRunCaller<T> {
  deferred: Deferred<T>;
  options: ITriggerOptions | undefined;
  /** The caller's abort listener, while one is registered. */
  onAbort: (() => void) | undefined;
}

/**
 * Starts one run for `callers` and settles each caller with its outcome.
 *
 * A caller whose signal aborts is released at once with `TaskAbortedError`;
 * the run goes on for the others. Only when every caller has left does the
 * run's own signal abort: nobody waits for its result any more. Each caller's
 * `onFinished`, then `onFinished`, is called once the run has really ended.
 */
export function runShared<T>(
  callers: readonly SharedRunCaller<T>[],
  taskName: string,
  run: (options: ITriggerOptions) => Promise<T>,
  onFinished?: () => void,
): void {
  let controller: AbortController | undefined;
  let remaining = callers.length;
  for (const caller of callers) {
    const signal = caller.options?.signal;
    if (signal === undefined) continue;
    // The listener of the waiting phase gives way to one that knows the run.
    if (caller.onAbort !== undefined) removeAbortListener(signal, caller.onAbort);
    const runController = (controller ??= new AbortController());
    const leave = () => {
      caller.onAbort = undefined;
      caller.deferred.reject(new TaskAbortedError(taskName, signal.reason));
      if (--remaining === 0) runController.abort(signal.reason);
    };
    if (signal.aborted) {
      caller.onAbort = undefined;
      leave();
      continue;
    }
    caller.onAbort = leave;
    addAbortListener(signal, leave);
  }
  const detach = () => {
    for (const caller of callers) {
      if (caller.onAbort === undefined) continue;
      removeAbortListener(caller.options!.signal!, caller.onAbort);
      caller.onAbort = undefined;
    }
  };
  run({
    signal: controller?.signal,
    onFinished: () => {
      for (const caller of callers) caller.options?.onFinished?.();
      onFinished?.();
    },
  }).then(
    (value) => {
      detach();
      for (const caller of callers) caller.deferred.resolve(value);
    },
    (error) => {
      detach();
      for (const caller of callers) caller.deferred.reject(error);
    },
  );
}
