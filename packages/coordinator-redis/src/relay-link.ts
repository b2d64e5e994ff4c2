import { RedisCoordinatorError } from './errors.js';
import { connectionForClient, createOwnedConnection } from './redis-clients.js';
import type { ResolvedConnectionOptions } from './redis-connection-options.js';
import type { RedisConnection } from './redis-connection.js';

/** Where the relay and the dashboard source report outages. */
export interface RelayLogger {
  warn(message: string, error?: unknown): void;
  info(message: string): void;
}

export interface RelayLinkOptions {
  target: ResolvedConnectionOptions;
  /** `relayToRedis` or `RedisDashboardSource`, for log lines. */
  ownerName: string;
  logger: RelayLogger;
  /** How long one command may take. */
  commandTimeoutMs: number;
}

const LOG_PREFIX = '[@taskbuffer/coordinator-redis]';

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The relay's and the dashboard source's way to Redis: one connection (made
 * or adopted), commands against a deadline, failures as
 * `RedisCoordinatorError`, and one log line when an outage begins and one
 * when a command succeeds again. Callers retry on their own schedule.
 */
export class RelayLink {
  readonly #options: RelayLinkOptions;
  #connection: RedisConnection | undefined;
  #starting: Promise<void> | undefined;
  #stopped = false;
  #outageSince: number | undefined;
  readonly #waiters = new Set<() => void>();

  constructor(options: RelayLinkOptions) {
    this.#options = options;
  }

  /** Whether the last command succeeded. */
  get available(): boolean {
    return this.#outageSince === undefined && this.#connection?.ready === true;
  }

  /** Opens the connection; resolves at once (commands fail until it is ready). */
  start(): Promise<void> {
    this.#starting ??= (async () => {
      const target = this.#options.target;
      const connection =
        target.kind === 'client'
          ? connectionForClient(target.client)
          : await createOwnedConnection({ url: target.url, tls: target.tls, connectTimeout: this.#options.commandTimeoutMs });
      if (this.#stopped) {
        await connection.close().catch(() => undefined);
        return;
      }
      this.#connection = connection;
      connection.watch(
        () => {
          for (const wake of [...this.#waiters]) wake();
        },
        () => undefined,
      );
      connection.open();
    })();
    return this.#starting;
  }

  /** Sends one command; rejects with a `RedisCoordinatorError` saying what failed. */
  async send(args: string[]): Promise<unknown> {
    try {
      await this.start();
    } catch (error) {
      throw this.#fail(new RedisCoordinatorError('connect', `${this.#options.ownerName}: ${errorMessage(error)}`, { cause: error }));
    }
    const connection = this.#connection;
    if (this.#stopped || connection === undefined) throw new RedisCoordinatorError('read', 'stopped');
    if (!connection.ready) await this.#waitForReady(this.#options.commandTimeoutMs);
    if (!connection.ready) throw this.#fail(new RedisCoordinatorError('connect', 'not connected to Redis'));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new RedisCoordinatorError('read', `Redis did not answer ${args[0]} within ${this.#options.commandTimeoutMs} ms`)),
        this.#options.commandTimeoutMs,
      );
    });
    try {
      const reply = await Promise.race([connection.command(args), deadline]);
      this.#recovered();
      return reply;
    } catch (error) {
      throw this.#fail(
        error instanceof RedisCoordinatorError
          ? error
          : new RedisCoordinatorError('read', `Redis could not run ${args[0]}: ${errorMessage(error)}`, { cause: error }),
      );
    } finally {
      clearTimeout(timer);
    }
  }

  #waitForReady(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#waiters.add(wake);
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const wake of [...this.#waiters]) wake();
    await this.#starting?.catch(() => undefined);
    const connection = this.#connection;
    this.#connection = undefined;
    await connection?.close().catch(() => undefined);
  }

  #fail(error: RedisCoordinatorError): RedisCoordinatorError {
    if (this.#outageSince === undefined && !this.#stopped) {
      this.#outageSince = Date.now();
      this.#options.logger.warn(`${LOG_PREFIX} ${this.#options.ownerName}: Redis is unavailable (${error.message}); retrying.`);
    }
    return error;
  }

  #recovered(): void {
    if (this.#outageSince === undefined) return;
    const ms = Date.now() - this.#outageSince;
    this.#outageSince = undefined;
    this.#options.logger.info(`${LOG_PREFIX} ${this.#options.ownerName}: Redis is available again after ${ms} ms.`);
  }
}
