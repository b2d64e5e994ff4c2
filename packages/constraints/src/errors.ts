import { TaskbufferError } from '@taskbuffer/core';

/** Which user callback of a constraint group failed. */
export type ConstraintCallbackName = 'constraintKeyForExecution' | 'shouldExecute';

/**
 * A constraint group's `constraintKeyForExecution` or `shouldExecute` threw,
 * rejected, or returned something it may not. The trigger it was called for
 * rejects with this error and holds no slot; `cause` is the original error.
 */
export class ConstraintCallbackError extends TaskbufferError {
  readonly taskName: string;
  readonly constraintGroup: string;
  readonly callback: ConstraintCallbackName;

  constructor(callback: ConstraintCallbackName, constraintGroup: string, taskName: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`\`${callback}\` of constraint group "${constraintGroup}" failed for task "${taskName}": ${reason}`, {
      cause,
    });
    this.taskName = taskName;
    this.constraintGroup = constraintGroup;
    this.callback = callback;
  }
}
