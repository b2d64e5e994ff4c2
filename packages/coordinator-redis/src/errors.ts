import { TaskbufferError } from '@taskbuffer/core';

/**
 * Redis could not answer the coordinator (not connected, timed out, or the
 * server refused the command). `cause` is the driver's own error, if any.
 */
export class RedisCoordinatorError extends TaskbufferError {
  /** What the coordinator was doing: `claim`, `outcome`, `connect` or `read`. */
  readonly operation: 'claim' | 'outcome' | 'connect' | 'read';
  constructor(operation: RedisCoordinatorError['operation'], message: string, options?: ErrorOptions) {
    super(message, options);
    this.operation = operation;
  }
}
