import { TaskbufferError } from '@taskbuffer/core';

/** A cron expression could not be used; the message quotes it and says why. */
export class InvalidCronExpressionError extends TaskbufferError {
  /** The expression as it was given. */
  readonly expression: string;
  /** What is wrong with it. */
  readonly reason: string;

  constructor(expression: string, reason: string, options?: ErrorOptions) {
    super(`Invalid cron expression "${expression}": ${reason}`, options);
    this.expression = expression;
    this.reason = reason;
  }
}
