import type { AnyTask } from './ports.js';
import type { ITaskRunContext } from './types.js';

/**
 * The key of a run context's own signal, which composite tasks pass on to the
 * tasks they start, so that a timeout, a caller's abort or a stopping manager
 * reaches those too. Made when first read, like `context.signal`.
 */
export const kRunSignal = Symbol('taskbuffer.runSignal');

/** @internal */
export interface RunContextWithSignal extends ITaskRunContext {
  readonly [kRunSignal]: AbortSignal | undefined;
}

/** The signal of the run `context` belongs to, or `undefined` when nothing can abort it. */
export function runSignalOf(context: ITaskRunContext): AbortSignal | undefined {
  return (context as Partial<RunContextWithSignal>)[kRunSignal];
}

/**
 * Triggers `task` as part of an enclosing run whose signal is `signal`, so
 * that the enclosing run's timeout or abort aborts it too. When the trigger
 * rejects after `signal` aborted, this waits until the task's run has really
 * ended (`onFinished`) before rejecting: the enclosing run counts as running,
 * and starts nothing else, until then.
 */
export function triggerNested(task: AnyTask, input: unknown, signal: AbortSignal): Promise<unknown> {
  let finished!: () => void;
  const ended = new Promise<void>((resolve) => (finished = resolve));
  return task.trigger(input, { signal, onFinished: finished }).catch(async (error: unknown) => {
    if (signal.aborted) await ended;
    throw error;
  });
}
