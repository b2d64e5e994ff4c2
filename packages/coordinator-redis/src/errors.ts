import { TaskbufferError } from '@taskbuffer/core';
import type { RedisErrorKind } from './redis-errors.js';

export interface RedisCoordinatorErrorOptions extends ErrorOptions {
  /** The cause's short name (`NOPERM`, `READONLY`, `ECONNREFUSED`, `timeout`, …). */
  code?: string;
  /** Whether a retry could succeed; see `classifyRedisError`. */
  kind?: RedisErrorKind;
}

/**
 * Redis could not answer the coordinator (not connected, timed out, or the
 * server refused the command). `cause` is the driver's own error, if any.
 */
export class RedisCoordinatorError extends TaskbufferError {
  /**
   * What was being done: `claim`, `outcome`, `connect` or `read` (the
   * coordinator, and the dashboard source's reads), or `relay` (the
   * dashboard relay's writes).
   */
  readonly operation: 'claim' | 'outcome' | 'connect' | 'read' | 'relay';
  /** The cause's short name: a Redis error code (`NOPERM`, `READONLY`, …), a socket error code, or `timeout`. */
  readonly code: string;
  /**
   * `transient` (the connection was down or slow; a later attempt can
   * succeed), `redial` (the server could not take writes) or `permanent`
   * (the same command fails the same way until the configuration changes).
   */
  readonly kind: RedisErrorKind;
  constructor(operation: RedisCoordinatorError['operation'], message: string, options: RedisCoordinatorErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.operation = operation;
    this.code = options.code ?? 'unknown';
    this.kind = options.kind ?? 'transient';
  }
}
