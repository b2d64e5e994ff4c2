import { systemClock } from '@taskbuffer/core';
import { RedisCoordinatorError } from './errors.js';
import { connectionForClient, createOwnedConnection } from './redis-clients.js';
import type { ResolvedConnectionOptions } from './redis-connection-options.js';
import type { RedisConnection } from './redis-connection.js';
import { type RedisErrorClass, classifyRedisError } from './redis-errors.js';

/** Where the connection layer reports outages and clock trouble. */
export interface RedisLogger {
  warn(message: string, error?: unknown): void;
  info(message: string): void;
}

export interface RedisSessionOptions {
  /**
   * A client the user passed (see `RedisConnection.close` for who closes it),
   * or the URL and TLS options of a connection the session makes and owns.
   */
  target: ResolvedConnectionOptions;
  /** Who uses the session (`RedisCoordinator`), to open messages that reach the user without a log prefix. */
  ownerName: string;
  logger: RedisLogger;
  /** How long `start()` waits for the first connection; also the TCP connect timeout. */
  connectWait: number;
  /** The first line of an outage: `description` names the cause. */
  unavailableMessage(description: string): string;
  /** The line logged when a command succeeds again; `count` is what `noteOutageCost()` counted. */
  recoveredMessage(ms: number, count: number): string;
  /**
   * Warn (once) when the server's clock and this process's clock differ by
   * more than this many ms. `undefined` turns the check off.
   */
  clockTolerance?: number;
  /** What a skewed clock does to the owner, appended to the clock warning. */
  clockConsequence?: string;
}

export type SessionOperation = RedisCoordinatorError['operation'];

export type SessionResult =
  | { ok: true; reply: unknown }
  | { ok: false; stopped: boolean; error: RedisCoordinatorError };

/** Pause between attempts while the connection is up but answers with a transient error. */
const RETRY_PAUSE = 50;

interface Waiter {
  resolve(): void;
  timer: unknown;
}

class DeadlineError extends Error {}
class StoppedError extends Error {}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The connection layer every Redis-backed part of this package talks through:
 * it opens (or adopts) one connection, runs commands against a deadline,
 * classifies what fails (`classifyRedisError`), retries what can succeed,
 * dials a new connection when the old one is silent or reaches a server that
 * cannot take writes, gives up at once on what never succeeds, and logs one
 * line when an outage begins and one when a command succeeds again.
 */
export class RedisSession {
  readonly #options: RedisSessionOptions;
  #connection: RedisConnection | undefined;
  #unwatch: (() => void) | undefined;
  #starting: Promise<void> | undefined;
  #running = false;
  readonly #waiters = new Set<Waiter>();
  /** Commands under way, so that `stop()` can answer them at once. */
  readonly #inFlight = new Set<(error: Error) => void>();
  #outage: { since: number; count: number; codes: Set<string> } | undefined;
  /** The last error the connection itself reported, while it is not ready. */
  #connectFailure: { error: unknown; classification: RedisErrorClass } | undefined;
  /** Since when the connection has not been ready (undefined while it is). */
  #notReadySince: number | undefined;
  #clockWarned = false;
  /** Whether `start()` has finished waiting for the first connection. */
  #startDone = false;

  constructor(options: RedisSessionOptions) {
    this.#options = options;
  }

  get running(): boolean {
    return this.#running;
  }

  /** Whether the last command succeeded (or none failed yet) and the connection is ready. */
  get available(): boolean {
    return this.#running && this.#outage === undefined && this.#connection?.ready === true;
  }

  /** The connection, for a one-off read; undefined before `start()` and after `stop()`. */
  get connection(): RedisConnection | undefined {
    return this.#connection;
  }

  /**
   * Connects and waits up to `connectWait` for the connection. Resolves when
   * Redis cannot be reached (commands then fail until it can); rejects with a
   * `RedisCoordinatorError` when the server refuses the connection for good
   * (a wrong password, a missing permission), after closing what it opened.
   */
  start(): Promise<void> {
    if (this.#running) return this.#starting ?? Promise.resolve();
    this.#running = true;
    this.#starting = this.#start().catch(async (error: unknown) => {
      // Not stop(): it waits for this very promise.
      this.#running = false;
      await this.#release(0);
      throw error;
    });
    return this.#starting;
  }

  async #start(): Promise<void> {
    const connection = await this.#createConnection();
    if (!this.#running) return;
    this.#connection = connection;
    this.#unwatch = connection.watch(
      () => this.#onReady(),
      (error) => this.#onConnectionError(error),
    );
    this.#notReadySince = systemClock.now();
    connection.open();
    if (!connection.ready) {
      await this.#waitForReady(systemClock.now() + this.#options.connectWait);
      this.#startDone = true;
      const failure = this.#connectFailure;
      if (this.#running && !connection.ready && failure?.classification.kind === 'permanent') {
        throw new RedisCoordinatorError(
          'connect',
          `Redis refused the connection: ${failure.classification.description}`,
          { cause: failure.error, code: failure.classification.code, kind: 'permanent' },
        );
      }
      if (this.#running && !connection.ready && this.#outage === undefined) {
        this.#markUnavailable(
          new RedisCoordinatorError(
            'connect',
            failure === undefined
              ? `not connected within ${this.#options.connectWait} ms`
              : `not connected within ${this.#options.connectWait} ms: ${failure.classification.description}`,
            { cause: failure?.error, code: failure?.classification.code ?? 'timeout', kind: 'transient' },
          ),
        );
      }
    }
    this.#startDone = true;
    if (this.#running && connection.ready) await this.#probe(connection);
  }

  async #createConnection(): Promise<RedisConnection> {
    const target = this.#options.target;
    if (target.kind === 'client') return connectionForClient(target.client);
    try {
      return await createOwnedConnection({
        url: target.url,
        tls: target.tls,
        connectTimeout: Math.max(this.#options.connectWait, 1000),
      });
    } catch (error) {
      throw new RedisCoordinatorError('connect', `${this.#options.ownerName}: ${errorMessage(error)}`, {
        cause: error,
        code: 'driver',
        kind: 'permanent',
      });
    }
  }

  /**
   * Answers commands still under way (as stopped), stops listening and closes
   * a connection it opened, waiting at most `closeGraceMs` for it to flush.
   */
  async stop(closeGraceMs = 1000): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#wakeWaiters();
    // Commands given up here may never be answered (a silent server): do not wait for them to flush.
    const abandoned = this.#inFlight.size > 0;
    for (const abort of [...this.#inFlight]) abort(new StoppedError());
    await this.#starting?.catch(() => undefined);
    await this.#release(abandoned ? 0 : closeGraceMs);
  }

  /** Stops listening and closes what was opened; `#running` is already false. */
  async #release(closeGraceMs: number): Promise<void> {
    this.#starting = undefined;
    this.#unwatch?.();
    this.#unwatch = undefined;
    const connection = this.#connection;
    this.#connection = undefined;
    this.#outage = undefined;
    this.#connectFailure = undefined;
    this.#clockWarned = false;
    this.#startDone = false;
    await connection?.close(closeGraceMs).catch(() => undefined);
  }

  /**
   * Runs `send` on the connection until it succeeds, fails for good, or the
   * deadline passes. Never rejects. Waits for a dropped connection to come
   * back; dials a new one when the old one is silent until the deadline or
   * answers `READONLY`/`MASTERDOWN`; gives up at once on a permanent error.
   * `subject` names what was being done, for messages (`the claim of "x"`);
   * it is called only when the command fails.
   */
  async run(
    operation: SessionOperation,
    subject: () => string,
    deadline: number,
    send: (connection: RedisConnection) => Promise<unknown>,
  ): Promise<SessionResult> {
    let lastError: unknown;
    let classification: RedisErrorClass | undefined;
    let redialed = false;
    for (;;) {
      const connection = this.#connection;
      if (!this.#running || connection === undefined) return this.#stopped(operation);
      if (deadline - systemClock.now() <= 0) break;
      if (!connection.ready) {
        const failure = this.#connectFailure;
        if (failure?.classification.kind === 'permanent') {
          lastError = failure.error;
          classification = failure.classification;
          break;
        }
        lastError ??= failure?.error ?? new Error('not connected');
        classification ??= failure?.classification;
        await this.#waitForReady(deadline);
        continue;
      }
      const epoch = connection.epoch;
      try {
        const reply = await this.#withDeadline(send(connection), deadline);
        this.#markAvailable();
        return { ok: true, reply };
      } catch (error) {
        if (error instanceof StoppedError) return this.#stopped(operation);
        lastError = error;
        if (error instanceof DeadlineError) {
          // A connection that takes a whole deadline to answer is likely
          // half-open (a peer gone without a reset): dial a new one rather
          // than wait for TCP keep-alive to notice.
          classification = undefined;
          this.#recycle(connection, epoch);
          break;
        }
        classification = classifyRedisError(error);
        if (classification.kind === 'permanent') break;
        if (classification.kind === 'redial') {
          // A demoted primary keeps its clients; only a new connection can
          // reach the new primary (through a DNS name, a virtual IP or a proxy
          // that moved). If the new one says the same, this command gives up.
          // Commands that met READONLY together share one new connection:
          // a moved epoch means another one dialled it already.
          const dialled = connection.epoch !== epoch || this.#recycle(connection, epoch);
          if (redialed || !dialled) {
            classification = { ...classification, kind: 'permanent' };
            break;
          }
          redialed = true;
          continue;
        }
        await this.#pause(RETRY_PAUSE, deadline);
      }
    }
    const connection = this.#connection;
    if (connection !== undefined && !connection.ready && this.#notReadySince !== undefined) {
      // Dialling for a whole deadline without getting ready: the socket may be
      // stuck in its handshake with a silent peer, which the client never
      // times out. Start over with a new connection.
      if (systemClock.now() - this.#notReadySince >= this.#options.connectWait) this.#recycle(connection, connection.epoch);
    }
    let message: string;
    let code: string;
    let kind: RedisErrorClass['kind'];
    if (lastError instanceof DeadlineError || lastError === undefined) {
      message = `Redis did not answer ${subject()} in time`;
      code = 'timeout';
      kind = 'transient';
    } else {
      classification ??= classifyRedisError(lastError);
      message =
        classification.kind === 'permanent'
          ? `Redis refused ${subject()}: ${classification.description}`
          : `Redis could not run ${subject()}: ${errorMessage(lastError)}`;
      code = classification.code;
      kind = classification.kind;
    }
    const error = new RedisCoordinatorError(operation, message, { cause: lastError, code, kind });
    if (this.#running) this.#markUnavailable(error);
    return { ok: false, stopped: !this.#running, error };
  }

  /**
   * Counts one unit of what the current outage cost (a skipped tick), for the
   * message logged when Redis is back. Does nothing outside an outage.
   */
  noteOutageCost(): void {
    if (this.#outage !== undefined) this.#outage.count++;
  }

  /**
   * Compares the server's clock (`serverTime`, read between `sentAt` and
   * `receivedAt` by this process's clock) with this process's clock and warns
   * once when they differ by more than `clockTolerance`; the warning is given
   * again only after the clocks agreed in between.
   */
  observeServerTime(serverTime: number, sentAt: number, receivedAt: number): void {
    const tolerance = this.#options.clockTolerance;
    if (tolerance === undefined || !Number.isFinite(serverTime)) return;
    const local = Math.round((sentAt + receivedAt) / 2);
    // Half the round trip is how far off the midpoint can be.
    const uncertainty = Math.ceil((receivedAt - sentAt) / 2);
    const skew = local - serverTime;
    if (Math.abs(skew) - uncertainty <= tolerance) {
      if (Math.abs(skew) <= tolerance / 2) this.#clockWarned = false;
      return;
    }
    if (this.#clockWarned) return;
    this.#clockWarned = true;
    const consequence = this.#options.clockConsequence === undefined ? '' : `; ${this.#options.clockConsequence}`;
    this.#options.logger.warn(
      `${LOG_PREFIX} This process's clock reads ${new Date(local).toISOString()} while the Redis server's reads ` +
        `${new Date(serverTime).toISOString()}: ${Math.abs(skew)} ms ${skew > 0 ? 'ahead' : 'behind'}, more than ` +
        `${tolerance} ms${consequence}. Synchronise the clocks (NTP).`,
    );
  }

  /**
   * Reads the server's clock once connected: a refusal that no retry can get
   * past (a wrong password, a user without a permission) rejects `start()`
   * instead of failing every command later, and a skewed clock is reported
   * before the first command depends on it.
   */
  async #probe(connection: RedisConnection): Promise<void> {
    const sentAt = systemClock.now();
    let reply: unknown;
    try {
      reply = await this.#withDeadline(connection.command(['TIME']), sentAt + this.#options.connectWait);
    } catch (error) {
      const classification = error instanceof StoppedError || error instanceof DeadlineError ? undefined : classifyRedisError(error);
      if (classification?.kind === 'permanent') {
        throw new RedisCoordinatorError('connect', `Redis refused the connection: ${classification.description}`, {
          cause: error,
          code: classification.code,
          kind: 'permanent',
        });
      }
      // Anything else: the first command will tell.
      return;
    }
    if (!Array.isArray(reply) || reply.length < 2) return;
    const serverTime = Number(reply[0]) * 1000 + Math.floor(Number(reply[1]) / 1000);
    this.observeServerTime(serverTime, sentAt, systemClock.now());
  }

  // -------------------------------------------------------------------------

  #recycle(connection: RedisConnection, epoch: number): boolean {
    if (!this.#running || !connection.recycle(epoch)) return false;
    this.#notReadySince = systemClock.now();
    this.#connectFailure = undefined;
    return true;
  }

  #stopped(operation: SessionOperation): SessionResult {
    return { ok: false, stopped: true, error: new RedisCoordinatorError(operation, 'stopped', { kind: 'permanent', code: 'stopped' }) };
  }

  #withDeadline<T>(promise: Promise<T>, deadline: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const settle = (error: Error | undefined, value?: T) => {
        systemClock.clearTimeout(timer);
        this.#inFlight.delete(abort);
        if (error === undefined) resolve(value as T);
        else reject(error);
      };
      const abort = (error: Error) => settle(error);
      const timer = systemClock.setTimeout(() => settle(new DeadlineError()), Math.max(0, deadline - systemClock.now()));
      this.#inFlight.add(abort);
      // The command may still settle after the deadline; both outcomes are
      // consumed here, so nothing is left unhandled.
      promise.then(
        (value) => settle(undefined, value),
        (error: unknown) => settle(error instanceof Error ? error : new Error(String(error))),
      );
    });
  }

  /** Resolves on `ready`, at the deadline, or on `stop()`, whichever comes first. */
  #waitForReady(deadline: number): Promise<void> {
    return this.#pause(Math.max(0, deadline - systemClock.now()), deadline);
  }

  /** Resolves after `ms`, on `ready`, or on `stop()`. */
  #pause(ms: number, deadline: number): Promise<void> {
    const delay = Math.max(0, Math.min(ms, deadline - systemClock.now()));
    return new Promise<void>((resolve) => {
      const waiter: Waiter = {
        resolve: () => {
          systemClock.clearTimeout(waiter.timer);
          this.#waiters.delete(waiter);
          resolve();
        },
        timer: undefined,
      };
      waiter.timer = systemClock.setTimeout(() => waiter.resolve(), delay);
      this.#waiters.add(waiter);
    });
  }

  #wakeWaiters(): void {
    for (const waiter of [...this.#waiters]) waiter.resolve();
  }

  #onReady(): void {
    // Being connected is not being available: a server that accepts the
    // connection may still refuse or time out every command. Only a command
    // that succeeds ends an outage.
    this.#connectFailure = undefined;
    this.#notReadySince = undefined;
    this.#wakeWaiters();
  }

  #onConnectionError(error: unknown): void {
    if (!this.#running) return;
    this.#notReadySince ??= systemClock.now();
    const classification = classifyRedisError(error);
    this.#connectFailure = { error, classification };
    // Commands (and start()) waiting for the connection give up now instead of at their deadline.
    if (classification.kind === 'permanent') this.#wakeWaiters();
    // While start() waits, it reports the failure itself (or rejects on a permanent one).
    if (!this.#startDone) return;
    this.#markUnavailable(
      new RedisCoordinatorError('connect', classification.description, {
        cause: error,
        code: classification.code,
        kind: classification.kind,
      }),
    );
  }

  #markUnavailable(error: RedisCoordinatorError): void {
    if (!this.#running) return;
    const outage = this.#outage;
    if (outage !== undefined) {
      // One line per outage; a refusal that no retry can get past is worth a
      // line of its own when it shows up in the middle of one.
      if (error.kind !== 'permanent' || outage.codes.has(error.code)) return;
      outage.codes.add(error.code);
    } else {
      this.#outage = { since: systemClock.now(), count: 0, codes: new Set([error.code]) };
    }
    // One line: the cause is in the message. A stack helps only for an error
    // nobody expected (a client failing inside).
    const unexpected = /^(TypeError|RangeError|ReferenceError|SyntaxError)$/.test(error.code);
    const line = this.#options.unavailableMessage(error.message);
    if (unexpected) this.#options.logger.warn(line, error);
    else this.#options.logger.warn(line);
  }

  #markAvailable(): void {
    const outage = this.#outage;
    if (outage === undefined) return;
    this.#outage = undefined;
    this.#options.logger.info(this.#options.recoveredMessage(systemClock.now() - outage.since, outage.count));
  }
}

export const LOG_PREFIX = '[@taskbuffer/coordinator-redis]';
