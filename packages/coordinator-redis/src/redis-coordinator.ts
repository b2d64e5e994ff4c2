import {
  AbstractDistributedCoordinator,
  type IDistributedTaskRequest,
  type IDistributedTaskRequestResult,
  describeValue,
  invalidOption,
  systemClock,
} from '@taskbuffer/core';
import {
  type ClaimDecision,
  type ClaimReply,
  type LuaScript,
  claimScript,
  decodeClaimReply,
  decodeOutcomeReply,
  outcomeScript,
} from './claim-script.js';
import { RedisCoordinatorError } from './errors.js';
import { connectionForClient, createOwnedConnection } from './redis-clients.js';
import type { RedisConnection } from './redis-connection.js';
import {
  type RedisConnectionOptions,
  type ResolvedConnectionOptions,
  resolveConnectionOptions,
} from './redis-connection-options.js';

/** Where the coordinator reports an outage: once when it begins, once when it ends. */
export interface RedisCoordinatorLogger {
  warn(message: string, error?: unknown): void;
  info(message: string): void;
}

/**
 * Options of `new RedisCoordinator()`: how to reach Redis (`url`, `username`,
 * `password`, `tls`, or `client`; see `RedisConnectionOptions`) and how to
 * coordinate.
 */
export interface RedisCoordinatorOptions extends RedisConnectionOptions {
  /**
   * Prefix of the one key per task the coordinator keeps.
   * @default 'taskbuffer:coordinator:'
   */
  keyPrefix?: string;
  /**
   * How late after its tick, by the Redis server's clock, a claim may arrive
   * and still be granted (and how far ahead of it, for an instance whose clock
   * runs fast). A claim also waits for Redis (reconnecting if need be) no
   * longer than this after its tick: Redis would refuse it by then anyway.
   * @default 2000
   */
  gracePeriod?: number;
  /**
   * What a tick does when Redis cannot be reached: `skip` it (fail closed: no
   * run can be duplicated) or `run` it on every instance that cannot reach
   * Redis (fail open: no tick is lost, but ticks may run more than once).
   * @default 'skip'
   */
  onUnavailable?: 'skip' | 'run';
  /**
   * Receives one warning when Redis becomes unavailable and one message when
   * it is back, however many ticks fall in between.
   * @default console
   */
  logger?: RedisCoordinatorLogger;
}

/** How the coordinator answered a request. */
export type RedisClaimDecision = ClaimDecision | 'unavailable' | 'invalid' | 'stopped';

/** The answer to one claim, with the fencing number of a granted one. */
export interface RedisClaimResult extends IDistributedTaskRequestResult {
  /**
   * `claimed` (granted), `repeat` (granted before to the same request id),
   * `taken` (another instance holds this tick), `superseded` (a later tick
   * was claimed), `late` / `early` (outside the grace period), `unavailable`
   * (Redis could not be reached), `invalid` (a malformed request) or `stopped`.
   */
  decision: RedisClaimDecision;
  /**
   * The fencing number of a granted claim: it grows with every claim granted
   * for the task, so a side effect can refuse a writer holding an older one.
   * 0 when the claim was not granted by Redis. Also given as `rank`.
   */
  fence: number;
  /** The Redis server's clock when it decided, epoch ms; undefined without an answer. */
  serverTime: number | undefined;
}

/** What Redis holds for one task: its latest claim. */
export interface RedisTaskState {
  /** The latest claimed tick, epoch ms. */
  lastTick: number;
  /** The `submitterId` (instance) that holds it. */
  owner: string;
  requestResponseId: string;
  /** The fencing number of the latest claim. */
  fence: number;
  /** `running` until its outcome is recorded. */
  status: 'running' | 'succeeded' | 'failed';
  /** When the claim was granted, by the Redis server's clock. */
  claimedAt: number;
  /** When its outcome was recorded, by the Redis server's clock. */
  endedAt: number | undefined;
  /** How many outcomes of each kind were recorded for the task. */
  succeeded: number;
  failed: number;
}

const DEFAULT_PREFIX = 'taskbuffer:coordinator:';
const DEFAULT_GRACE = 2000;
/** A claim that is already late by this instance's clock still gets this long to reach Redis. */
const MINIMUM_WAIT = 250;
/** Pause between attempts while the connection is up but answers with a transient error. */
const RETRY_PAUSE = 50;
const LOG_PREFIX = '[@taskbuffer/coordinator-redis]';

/** Errors that will not go away by retrying within a tick. */
const PERMANENT_REPLY = /^(ERR|WRONGTYPE|OOM|NOPERM|NOAUTH|WRONGPASS|EXECABORT|NOSCRIPT)\b/;

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

interface Waiter {
  resolve(): void;
  timer: unknown;
}

/**
 * A distributed coordinator backed by Redis: of all instances that ask for the
 * same scheduled tick of a task, exactly one is told to run it.
 *
 * Each claim is one Lua script call (one round trip): per task Redis keeps the
 * latest claimed tick and refuses that tick and every earlier one; it judges
 * lateness by its own clock; a retried request id gets the same answer; a
 * granted claim carries a fencing number. When Redis cannot be reached the
 * tick is skipped (or run, with `onUnavailable: 'run'`); the coordinator never
 * rejects into the scheduler.
 *
 * @example
 * const manager = new TaskManager({
 *   scheduler: new CronScheduler(),
 *   distributedCoordinator: new RedisCoordinator({ url: process.env.REDIS_URL }),
 * });
 */
export class RedisCoordinator extends AbstractDistributedCoordinator {
  readonly keyPrefix: string;
  readonly gracePeriod: number;
  readonly onUnavailable: 'skip' | 'run';

  readonly #target: ResolvedConnectionOptions;
  readonly #logger: RedisCoordinatorLogger;
  #connection: RedisConnection | undefined;
  #unwatch: (() => void) | undefined;
  #starting: Promise<void> | undefined;
  #running = false;
  readonly #waiters = new Set<Waiter>();
  #outage: { since: number; ticks: number } | undefined;

  constructor(options: RedisCoordinatorOptions = {}) {
    super();
    if (typeof options !== 'object' || options === null) invalidOption('options', 'an object', options);
    const { keyPrefix = DEFAULT_PREFIX, gracePeriod = DEFAULT_GRACE, onUnavailable = 'skip' } = options;
    const target = resolveConnectionOptions(options);
    if (typeof keyPrefix !== 'string') invalidOption('keyPrefix', 'a string', keyPrefix);
    if (typeof gracePeriod !== 'number' || !Number.isSafeInteger(gracePeriod) || gracePeriod <= 0) {
      invalidOption('gracePeriod', 'a positive integer (ms)', gracePeriod);
    }
    if (onUnavailable !== 'skip' && onUnavailable !== 'run') {
      invalidOption('onUnavailable', "'skip' or 'run'", onUnavailable);
    }
    const logger = options.logger ?? console;
    if (typeof logger !== 'object' || typeof logger.warn !== 'function' || typeof logger.info !== 'function') {
      invalidOption('logger', 'an object with `warn` and `info` methods', logger);
    }
    this.#target = target;
    this.#logger = logger;
    this.keyPrefix = keyPrefix;
    this.gracePeriod = gracePeriod;
    this.onUnavailable = onUnavailable;
  }

  /** Whether Redis answered the last command (or connected since it last failed). */
  get available(): boolean {
    return this.#running && this.#outage === undefined && this.#connection?.ready === true;
  }

  /** The Redis key that holds a task's latest claim. */
  keyFor(taskName: string): string {
    return `${this.keyPrefix}${taskName}`;
  }

  /**
   * Connects (or, with a client you passed, makes sure it connects) and waits
   * up to `gracePeriod` for the connection. Never rejects for an unreachable
   * Redis: ticks are then skipped (or run) until it can be reached.
   */
  start(): Promise<void> {
    if (this.#running) return this.#starting ?? Promise.resolve();
    this.#running = true;
    this.#starting = this.#start().catch((error: unknown) => {
      this.#running = false;
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
      (error) => this.#markUnavailable(error, 'connect'),
    );
    connection.open();
    if (!connection.ready) {
      await this.#waitForReady(systemClock.now() + this.gracePeriod);
      if (this.#running && !connection.ready && this.#outage === undefined) {
        this.#markUnavailable(new Error(`not connected within ${this.gracePeriod} ms`), 'connect');
      }
    }
  }

  async #createConnection(): Promise<RedisConnection> {
    const target = this.#target;
    if (target.kind === 'client') return connectionForClient(target.client);
    try {
      return await createOwnedConnection({
        url: target.url,
        tls: target.tls,
        connectTimeout: Math.max(this.gracePeriod, 1000),
      });
    } catch (error) {
      throw new RedisCoordinatorError('connect', `RedisCoordinator: ${errorMessage(error)}`, { cause: error });
    }
  }

  /** Stops waiting claims (they are refused), stops listening and closes a connection it opened. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#wakeWaiters();
    await this.#starting?.catch(() => undefined);
    this.#starting = undefined;
    this.#unwatch?.();
    this.#unwatch = undefined;
    const connection = this.#connection;
    this.#connection = undefined;
    this.#outage = undefined;
    await connection?.close().catch(() => undefined);
  }

  /**
   * Asks Redis whether this instance runs the tick. Always resolves: with
   * `shouldTrigger: false` and a reason when the tick is refused or Redis is
   * unavailable (or `true` for the latter with `onUnavailable: 'run'`).
   */
  async fireDistributedTaskRequest(request: IDistributedTaskRequest): Promise<RedisClaimResult> {
    const problem = this.#checkRequest(request);
    if (problem !== undefined) {
      return this.#answer(request, { decision: 'invalid', considered: false, granted: false, reason: problem });
    }
    if (!this.#running) {
      return this.#answer(request, {
        decision: 'stopped',
        considered: false,
        granted: false,
        reason: 'the coordinator is not started',
      });
    }
    const tick = request.taskExecutionTime;
    const now = systemClock.now();
    const deadline = Math.max(tick + this.gracePeriod, now + MINIMUM_WAIT);
    const outcome = await this.#run('claim', claimScript, request.taskName, deadline, [
      request.requestResponseId,
      request.submitterId,
      String(tick),
      String(this.gracePeriod),
    ]);
    if (outcome.ok) {
      let reply: ClaimReply;
      try {
        reply = decodeClaimReply(outcome.reply);
      } catch (error) {
        return this.#unavailable(request, new RedisCoordinatorError('claim', errorMessage(error), { cause: error }));
      }
      return this.#fromReply(request, reply);
    }
    if (outcome.stopped) {
      return this.#answer(request, {
        decision: 'stopped',
        considered: false,
        granted: false,
        reason: 'the coordinator was stopped',
      });
    }
    return this.#unavailable(request, outcome.error);
  }

  /**
   * Records how a granted run ended (`succeeded` or `failed`) on the task's
   * key. Best effort: never rejects; an outcome for a claim that is no longer
   * the task's latest is not recorded.
   */
  async updateDistributedTaskRequest(request: IDistributedTaskRequest): Promise<void> {
    await this.recordOutcome(request);
  }

  /**
   * Like `updateDistributedTaskRequest`, but tells what happened: `recorded`,
   * `superseded` (not the task's latest claim, or never granted), `conflict`
   * (the other outcome was recorded already), `ignored` (a status other than
   * `succeeded` / `failed`, or a malformed request) or `unavailable`.
   */
  async recordOutcome(
    request: IDistributedTaskRequest,
  ): Promise<'recorded' | 'superseded' | 'conflict' | 'ignored' | 'unavailable'> {
    if (this.#checkRequest(request) !== undefined) return 'ignored';
    if (request.status !== 'succeeded' && request.status !== 'failed') return 'ignored';
    if (!this.#running) return 'unavailable';
    const deadline = systemClock.now() + Math.max(this.gracePeriod, MINIMUM_WAIT);
    const outcome = await this.#run('outcome', outcomeScript, request.taskName, deadline, [
      request.requestResponseId,
      request.status,
    ]);
    if (!outcome.ok) return 'unavailable';
    try {
      return decodeOutcomeReply(outcome.reply);
    } catch {
      return 'unavailable';
    }
  }

  /**
   * Reads what Redis holds for a task (its latest claim), or `undefined` if no
   * tick of it was ever claimed. Rejects with a `RedisCoordinatorError` when
   * Redis cannot be reached.
   */
  async getTaskState(taskName: string): Promise<RedisTaskState | undefined> {
    if (typeof taskName !== 'string' || taskName === '') invalidOption('taskName', 'a non-empty string', taskName);
    const connection = this.#connection;
    if (!this.#running || connection === undefined) {
      throw new RedisCoordinatorError('read', 'The coordinator is not started');
    }
    let reply: unknown;
    try {
      reply = await connection.command(['HGETALL', this.keyFor(taskName)]);
    } catch (error) {
      throw new RedisCoordinatorError('read', `Could not read the state of task "${taskName}": ${errorMessage(error)}`, {
        cause: error,
      });
    }
    const fields = toFieldMap(reply);
    const lastTick = fields.get('tick');
    if (lastTick === undefined) return undefined;
    const endedAt = fields.get('endedAt');
    return {
      lastTick: Number(lastTick),
      owner: fields.get('owner') ?? '',
      requestResponseId: fields.get('rid') ?? '',
      fence: Number(fields.get('fence') ?? 0),
      status: (fields.get('status') ?? 'running') as RedisTaskState['status'],
      claimedAt: Number(fields.get('claimedAt') ?? 0),
      endedAt: endedAt === undefined ? undefined : Number(endedAt),
      succeeded: Number(fields.get('succeeded') ?? 0),
      failed: Number(fields.get('failed') ?? 0),
    };
  }

  // -------------------------------------------------------------------------

  async #run(
    operation: 'claim' | 'outcome',
    script: LuaScript,
    taskName: string,
    deadline: number,
    args: string[],
  ): Promise<{ ok: true; reply: unknown } | { ok: false; stopped: boolean; error: RedisCoordinatorError }> {
    const key = this.keyFor(taskName);
    let lastError: unknown;
    // A retry reuses the same request id, so a claim that was granted but
    // whose answer was lost on a dropped connection is granted again.
    for (;;) {
      const connection = this.#connection;
      if (!this.#running || connection === undefined) {
        return { ok: false, stopped: true, error: new RedisCoordinatorError(operation, 'stopped') };
      }
      const remaining = deadline - systemClock.now();
      if (remaining <= 0) break;
      if (!connection.ready) {
        lastError ??= new Error('not connected');
        await this.#waitForReady(deadline);
        continue;
      }
      const epoch = connection.epoch;
      try {
        const reply = await this.#withDeadline(connection.evalScript(script, [key], args), deadline);
        this.#markAvailable();
        return { ok: true, reply };
      } catch (error) {
        lastError = error;
        if (error instanceof DeadlineError) {
          // A connection that takes a whole grace period to answer is likely
          // half-open (a peer gone without a reset): dial a new one rather
          // than wait for TCP keep-alive to notice.
          connection.recycle(epoch);
          break;
        }
        if (error instanceof Error && PERMANENT_REPLY.test(error.message)) break;
        await this.#pause(RETRY_PAUSE, deadline);
      }
    }
    const message =
      lastError instanceof DeadlineError || lastError === undefined
        ? `Redis did not answer the ${operation} of "${taskName}" in time`
        : `Redis could not run the ${operation} of "${taskName}": ${errorMessage(lastError)}`;
    const error = new RedisCoordinatorError(operation, message, { cause: lastError });
    if (this.#running) this.#markUnavailable(error, operation);
    return { ok: false, stopped: !this.#running, error };
  }

  #withDeadline<T>(promise: Promise<T>, deadline: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = systemClock.setTimeout(
        () => reject(new DeadlineError()),
        Math.max(0, deadline - systemClock.now()),
      );
      // The command may still settle after the deadline; both outcomes are
      // consumed here, so nothing is left unhandled.
      promise.then(
        (value) => {
          systemClock.clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          systemClock.clearTimeout(timer);
          reject(error);
        },
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
    this.#markAvailable();
    this.#wakeWaiters();
  }

  #markUnavailable(error: unknown, operation: RedisCoordinatorError['operation']): void {
    if (!this.#running || this.#outage !== undefined) return;
    this.#outage = { since: systemClock.now(), ticks: 0 };
    const wrapped =
      error instanceof RedisCoordinatorError
        ? error
        : new RedisCoordinatorError(operation, `Redis is unreachable: ${errorMessage(error)}`, { cause: error });
    const policy =
      this.onUnavailable === 'skip'
        ? 'scheduled ticks are skipped until it is back'
        : 'scheduled ticks run on every instance, uncoordinated, until it is back';
    this.#logger.warn(`${LOG_PREFIX} Redis is unavailable (${wrapped.message}); ${policy}.`, wrapped);
  }

  #markAvailable(): void {
    const outage = this.#outage;
    if (outage === undefined) return;
    this.#outage = undefined;
    const verb = this.onUnavailable === 'skip' ? 'skipped' : 'run uncoordinated';
    this.#logger.info(
      `${LOG_PREFIX} Redis is available again after ${systemClock.now() - outage.since} ms; ` +
        `${outage.ticks} tick${outage.ticks === 1 ? ' was' : 's were'} ${verb} meanwhile.`,
    );
  }

  #unavailable(request: IDistributedTaskRequest, error: RedisCoordinatorError): RedisClaimResult {
    this.#markUnavailable(error, 'claim');
    if (this.#outage !== undefined) this.#outage.ticks++;
    const run = this.onUnavailable === 'run';
    return this.#answer(request, {
      decision: 'unavailable',
      considered: false,
      granted: run,
      reason: `${error.message}; ${run ? 'running anyway (onUnavailable: run)' : 'skipping the tick'}`,
    });
  }

  #fromReply(request: IDistributedTaskRequest, reply: ClaimReply): RedisClaimResult {
    const granted = reply.decision === 'claimed' || reply.decision === 'repeat';
    let reason: string;
    switch (reply.decision) {
      case 'claimed':
      case 'repeat':
        reason = `claimed (fence ${reply.fence})`;
        break;
      case 'taken':
        reason = `tick already claimed by ${reply.owner}`;
        break;
      case 'superseded':
        reason = `a later tick (${new Date(reply.lastTick ?? 0).toISOString()}) was already claimed`;
        break;
      case 'late':
        reason = `claim arrived ${reply.serverTime - request.taskExecutionTime} ms after its tick, later than the grace period of ${this.gracePeriod} ms`;
        break;
      case 'early':
        reason = `claim arrived ${request.taskExecutionTime - reply.serverTime} ms before its tick; this instance's clock is ahead of the Redis server by more than the grace period of ${this.gracePeriod} ms`;
        break;
    }
    return this.#answer(request, {
      decision: reply.decision,
      considered: true,
      granted,
      reason,
      fence: reply.fence,
      serverTime: reply.serverTime,
    });
  }

  #answer(
    request: IDistributedTaskRequest,
    fields: {
      decision: RedisClaimDecision;
      considered: boolean;
      granted: boolean;
      reason: string;
      fence?: number;
      serverTime?: number;
    },
  ): RedisClaimResult {
    const fence = fields.fence ?? 0;
    return {
      submitterId: typeof request?.submitterId === 'string' ? request.submitterId : '',
      requestResponseId: typeof request?.requestResponseId === 'string' ? request.requestResponseId : '',
      considered: fields.considered,
      rank: fence,
      reason: fields.reason,
      shouldTrigger: fields.granted,
      decision: fields.decision,
      fence,
      serverTime: fields.serverTime,
    };
  }

  #checkRequest(request: IDistributedTaskRequest): string | undefined {
    if (typeof request !== 'object' || request === null) return `Expected a request object, got ${describeValue(request)}`;
    const checks: [keyof IDistributedTaskRequest, boolean, string][] = [
      ['taskName', typeof request.taskName === 'string' && request.taskName !== '', 'a non-empty string'],
      ['submitterId', typeof request.submitterId === 'string', 'a string'],
      [
        'requestResponseId',
        typeof request.requestResponseId === 'string' && request.requestResponseId !== '',
        'a non-empty string',
      ],
      [
        'taskExecutionTime',
        Number.isSafeInteger(request.taskExecutionTime) && request.taskExecutionTime >= 0,
        'an integer epoch time in ms',
      ],
    ];
    for (const [field, ok, expected] of checks) {
      if (!ok) return `Expected \`${field}\` to be ${expected}, got ${describeValue(request[field])}`;
    }
    return undefined;
  }
}

class DeadlineError extends Error {}

function toFieldMap(reply: unknown): Map<string, string> {
  const fields = new Map<string, string>();
  if (Array.isArray(reply)) {
    for (let index = 0; index + 1 < reply.length; index += 2) fields.set(String(reply[index]), String(reply[index + 1]));
  } else if (reply instanceof Map) {
    for (const [field, value] of reply) fields.set(String(field), String(value));
  } else if (typeof reply === 'object' && reply !== null) {
    for (const [field, value] of Object.entries(reply)) fields.set(field, String(value));
  }
  return fields;
}
