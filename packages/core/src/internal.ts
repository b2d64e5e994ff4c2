import { addAbortListener, removeAbortListener } from './abort-listeners.js';
import { TaskAbortedError, describeThrown, invalidOption } from './errors.js';
import type { ITriggerOptions } from './types.js';

/** Core-internal hooks between `Task` and `TaskManager`; not exported from the package. */
export const kAttachSink = Symbol('taskbuffer.attachSink');
export const kDetachSink = Symbol('taskbuffer.detachSink');
export const kEmit = Symbol('taskbuffer.emit');
export const kScheduleInfo = Symbol('taskbuffer.scheduleInfo');
/** Aborts every run of a task that is under way (a stopping manager's last resort). */
export const kAbortRuns = Symbol('taskbuffer.abortRuns');
/** How many runs of a task are under way. */
export const kActiveRuns = Symbol('taskbuffer.activeRuns');
/** Callers waiting inside a task for a run (a full buffer, a debounce period). */
export const kWaitingCalls = Symbol('taskbuffer.waitingCalls');
/** Adds or removes a listener called whenever a task has no run under way any more. */
export const kAddIdleListener = Symbol('taskbuffer.addIdleListener');
export const kRemoveIdleListener = Symbol('taskbuffer.removeIdleListener');
/** The attempt of a run context has returned. */
export const kRunEnded = Symbol('taskbuffer.runEnded');
/** The key of `ITriggerOptions` under which a manager says why a run starts. */
export const kRunInfo = Symbol('taskbuffer.runInfo');

/** Why a run starts: a caller, or a scheduled tick (with the coordinator's fence). */
export interface RunInfo {
  readonly trigger: 'manual' | 'schedule';
  /** The tick, epoch ms. */
  readonly scheduledTime?: number;
  readonly fence?: number;
}

/** The run info of every trigger that does not say otherwise. */
export const MANUAL_RUN: RunInfo = Object.freeze({ trigger: 'manual' });

/** `ITriggerOptions` as the manager passes them. */
export interface InternalTriggerOptions extends ITriggerOptions {
  [kRunInfo]?: RunInfo;
}

/**
 * The error of bad trigger options (an `options` that is no object, a
 * `signal` that is no `AbortSignal`, an `onFinished` that is no function), or
 * `undefined`: triggers reject with it before anything starts.
 */
export function triggerOptionsError(options: unknown): TypeError | undefined {
  // The common case, checked without a frame that can throw: every trigger with options passes here.
  if (typeof options === 'object' && options !== null) {
    const { signal, onFinished } = options as ITriggerOptions;
    if ((signal === undefined || isAbortSignal(signal)) && (onFinished === undefined || typeof onFinished === 'function')) {
      return undefined;
    }
  }
  try {
    if (typeof options !== 'object' || options === null) invalidOption('options', 'an object such as `{ signal }`', options);
    const { signal, onFinished } = options as ITriggerOptions;
    if (signal !== undefined && !isAbortSignal(signal)) invalidOption('signal', 'an AbortSignal', signal);
    if (onFinished !== undefined && typeof onFinished !== 'function') invalidOption('onFinished', 'a function', onFinished);
  } catch (error) {
    return error as TypeError;
  }
  return undefined;
}

/** Whether `value` looks like an `AbortSignal` (also one from another realm). */
export function isAbortSignal(value: unknown): value is AbortSignal {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AbortSignal).aborted === 'boolean' &&
    typeof (value as AbortSignal).addEventListener === 'function' &&
    typeof (value as AbortSignal).removeEventListener === 'function'
  );
}

/** A promise with its settle functions, for queues that settle callers later. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

export function createDeferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Settles like `promise`, or rejects with `TaskAbortedError` as soon as
 * `signal` aborts; the work behind `promise` goes on for its other callers.
 */
export function abandonOnAbort<T>(promise: Promise<T>, signal: AbortSignal, taskName: string): Promise<T> {
  if (signal.aborted) return Promise.reject(new TaskAbortedError(taskName, signal.reason));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new TaskAbortedError(taskName, signal.reason));
    addAbortListener(signal, onAbort);
    promise.then(
      (value) => {
        removeAbortListener(signal, onAbort);
        resolve(value);
      },
      (error) => {
        removeAbortListener(signal, onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Any thrown value as an `Error`: an `Error` as it is, anything else wrapped
 * in one whose `cause` is the original value.
 */
export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(describeThrown(value), { cause: value });
}
