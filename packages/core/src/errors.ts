/** Describes a value for error messages: `` `0` (number) ``. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `\`"${value}"\` (string)`;
  if (typeof value === 'function') return '`[function]` (function)';
  if (value === null) return '`null`';
  if (value === undefined) return '`undefined`';
  let text: string;
  try {
    text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return `\`${text}\` (${typeof value})`;
}

/**
 * A message for any thrown value: a string as it is, an error-like object's
 * `message`, anything else as `String()` gives it. Never throws, also for
 * values `String()` cannot convert (`Object.create(null)`, a throwing `toString`).
 */
export function describeThrown(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    if (typeof value === 'object' && value !== null) {
      const message = (value as { message?: unknown }).message;
      if (typeof message === 'string') return message;
    }
    return `Non-Error value thrown: ${String(value)}`;
  } catch {
    return `Non-Error value thrown (${value === null ? 'null' : typeof value})`;
  }
}

/** The `TypeError` that {@link invalidOption} throws, for APIs that reject instead. */
export function invalidOptionError(option: string, expected: string, value: unknown): TypeError {
  return new TypeError(`Expected \`${option}\` to be ${expected}, got ${describeValue(value)}`);
}

/** Throws a `TypeError` naming the option, what it expects and what it got. */
export function invalidOption(option: string, expected: string, value: unknown): never {
  throw invalidOptionError(option, expected, value);
}

/** Base class of every error the library throws on purpose. */
export class TaskbufferError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A task was looked up by a name the manager does not know. */
export class TaskNotFoundError extends TaskbufferError {
  readonly taskName: string;
  constructor(taskName: string) {
    super(`No task named "${taskName}" is registered with this TaskManager`);
    this.taskName = taskName;
  }
}

/** A run took longer than the task's `timeout`. */
export class TaskTimeoutError extends TaskbufferError {
  readonly taskName: string;
  readonly timeout: number;
  constructor(taskName: string, timeout: number) {
    super(`Task "${taskName}" timed out after ${timeout} ms`);
    this.taskName = taskName;
    this.timeout = timeout;
  }
}

/** A run was cancelled through the `signal` passed to `trigger()`. */
export class TaskAbortedError extends TaskbufferError {
  readonly taskName: string;
  constructor(taskName: string, reason?: unknown) {
    super(`Task "${taskName}" was aborted`, reason === undefined ? undefined : { cause: reason });
    this.taskName = taskName;
  }
}

/** A task of a `Taskchain` failed; `cause` is the task's own error. */
export class ChainError extends TaskbufferError {
  readonly chainName: string;
  readonly taskName: string;
  readonly taskIndex: number;
  constructor(chainName: string, taskName: string, taskIndex: number, cause: unknown) {
    const reason = describeThrown(cause);
    super(`Taskchain "${chainName}" failed at task "${taskName}" (index ${taskIndex}): ${reason}`, {
      cause,
    });
    this.chainName = chainName;
    this.taskName = taskName;
    this.taskIndex = taskIndex;
  }
}

/**
 * The hooks (`preTask`, `afterTask`) reachable from a task form a cycle, or
 * reach one task twice. `paths` holds the task names along the offending
 * path: one path for a cycle (it ends with the task it started from), two for
 * a task reached twice.
 */
export class TaskHookError extends TaskbufferError {
  readonly paths: string[][];
  constructor(message: string, paths: string[][]) {
    super(message);
    this.paths = paths;
  }
}

/** A trigger was still waiting when its manager stopped or its group went away. */
export class TaskCancelledError extends TaskbufferError {
  readonly taskName: string;
  constructor(taskName: string, reason: string) {
    super(`Task "${taskName}" was cancelled before it ran: ${reason}`);
    this.taskName = taskName;
  }
}

/** A feature needs a package that was not plugged into the manager. */
export class MissingPortError extends TaskbufferError {}
