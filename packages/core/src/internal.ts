import { addAbortListener, removeAbortListener } from './abort-listeners.js';
import { TaskAbortedError, describeThrown } from './errors.js';

/** Core-internal hooks between `Task` and `TaskManager`; not exported from the package. */
export const kAttachSink = Symbol('taskbuffer.attachSink');
export const kDetachSink = Symbol('taskbuffer.detachSink');
export const kEmit = Symbol('taskbuffer.emit');
export const kScheduleInfo = Symbol('taskbuffer.scheduleInfo');

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
