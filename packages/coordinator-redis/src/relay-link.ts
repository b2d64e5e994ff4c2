import { RedisCoordinatorError } from './errors.js';
import type { ResolvedConnectionOptions } from './redis-connection-options.js';
import { LOG_PREFIX, RedisSession } from './redis-session.js';

/** Where the relay and the dashboard source report outages: once when one begins, once when it ends. */
export interface RelayLogger {
  warn(message: string, error?: unknown): void;
  info(message: string): void;
}

export interface RelayLinkOptions {
  target: ResolvedConnectionOptions;
  /** `relayToRedis (web-1)` or `RedisDashboardSource`, for log lines. */
  ownerName: string;
  /** `relay` for the relay's writes, `read` for the source's reads. */
  operation: 'relay' | 'read';
  logger: RelayLogger;
  /** How long one command may take, waiting for a reconnect included; also how long the first connection may take. */
  commandTimeoutMs: number;
  /** What an outage means for the owner, for the log line. */
  consequence: string;
}

/**
 * The relay's and the dashboard source's way to Redis, on the package's
 * shared connection layer (`RedisSession`): one connection, made or adopted,
 * commands against a deadline that wait for a reconnect, a new connection on
 * `READONLY`, failures as `RedisCoordinatorError` (transient, redial or
 * permanent), and one log line when an outage begins and one when it ends.
 * Callers retry on their own schedule.
 */
export class RelayLink {
  readonly #options: RelayLinkOptions;
  readonly #session: RedisSession;
  #starting: Promise<void> | undefined;
  /** The server refused the connection for good: every command fails with this. */
  #refused: RedisCoordinatorError | undefined;

  constructor(options: RelayLinkOptions) {
    this.#options = options;
    this.#session = new RedisSession({
      target: options.target,
      ownerName: options.ownerName,
      logger: options.logger,
      connectWait: options.commandTimeoutMs,
      unavailableMessage: (description) =>
        `${LOG_PREFIX} ${options.ownerName}: Redis is unavailable (${description}); ${options.consequence}.`,
      recoveredMessage: (ms) => `${LOG_PREFIX} ${options.ownerName}: Redis is available again after ${ms} ms.`,
    });
  }

  /** Whether the last command succeeded and the connection is up. */
  get available(): boolean {
    return this.#session.available;
  }

  /**
   * Connects (once). Never rejects: a server that refuses the connection for
   * good (a wrong password, a missing permission) is logged, and every
   * command fails with that refusal.
   */
  start(): Promise<void> {
    this.#starting ??= this.#session.start().catch((error: unknown) => {
      this.#options.logger.warn(
        `${LOG_PREFIX} ${this.#options.ownerName}: ${error instanceof Error ? error.message : String(error)}`,
        error,
      );
      this.#refused = error instanceof RedisCoordinatorError ? error : undefined;
    });
    return this.#starting;
  }

  /** Sends one command; rejects with a `RedisCoordinatorError` saying what failed. */
  async send(args: string[]): Promise<unknown> {
    await this.start();
    if (this.#refused !== undefined) throw this.#refused;
    const outcome = await this.#session.run(
      this.#options.operation,
      () => `${args[0]} of ${this.#options.ownerName}`,
      Date.now() + this.#options.commandTimeoutMs,
      (connection) => connection.command(args),
    );
    if (!outcome.ok) throw outcome.error;
    return outcome.reply;
  }

  /** Answers commands under way as stopped and closes a connection it opened (a client you passed stays open). */
  async stop(): Promise<void> {
    await this.#starting;
    await this.#session.stop();
  }
}
