import { randomBytes } from 'node:crypto';
import {
  AbstractDistributedCoordinator,
  type IDistributedTaskRequest,
  type IDistributedTaskRequestResult,
  describeValue,
  invalidOption,
  systemClock,
} from '@taskbuffer/core';
import {
  type AbandonDecision,
  type ClaimDecision,
  type ClaimReply,
  abandonScript,
  claimScript,
  decodeAbandonReply,
  decodeClaimReply,
  decodeOutcomeReply,
  outcomeScript,
} from './claim-script.js';
import { RedisCoordinatorError } from './errors.js';
import { type RedisConnectionOptions, resolveConnectionOptions } from './redis-connection-options.js';
import { LOG_PREFIX, RedisSession } from './redis-session.js';

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
  /**
   * `running` until its outcome is recorded: `succeeded`, `failed`, or
   * `cancelled` (its instance stopped before or while it ran).
   */
  status: 'running' | 'succeeded' | 'failed' | 'cancelled';
  /** When the claim was granted, by the Redis server's clock. */
  claimedAt: number;
  /** When its outcome was recorded, by the Redis server's clock. */
  endedAt: number | undefined;
  /** How many outcomes of each kind were recorded for the task. */
  succeeded: number;
  failed: number;
  cancelled: number;
  /** The holder handed the tick back unstarted: another instance may claim it within the grace period. */
  handedBack: boolean;
}

const DEFAULT_PREFIX = 'taskbuffer:coordinator:';
const DEFAULT_GRACE = 2000;
/** A claim that is already late by this instance's clock still gets this long to reach Redis. */
const MINIMUM_WAIT = 250;

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
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

  readonly #session: RedisSession;
  /**
   * Tells this process's claims from another process's that use the same
   * `instanceId`: a grant is repeated only to the process that got it.
   */
  readonly #token: string = randomBytes(9).toString('base64url');

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
    this.keyPrefix = keyPrefix;
    this.gracePeriod = gracePeriod;
    this.onUnavailable = onUnavailable;
    const skip = onUnavailable === 'skip';
    this.#session = new RedisSession({
      target,
      ownerName: 'RedisCoordinator',
      logger,
      connectWait: gracePeriod,
      unavailableMessage: (description) =>
        `${LOG_PREFIX} Redis is unavailable (${description}); ` +
        (skip
          ? 'scheduled ticks are skipped until it is back.'
          : 'scheduled ticks run on every instance, uncoordinated, until it is back.'),
      recoveredMessage: (ms, count) =>
        `${LOG_PREFIX} Redis is available again after ${ms} ms; ` +
        `${count} tick${count === 1 ? ' was' : 's were'} ${skip ? 'skipped' : 'run uncoordinated'} meanwhile.`,
      clockTolerance: Math.floor(gracePeriod / 2),
      clockConsequence:
        `claims are judged by the Redis server's clock and refused as early or late beyond the grace period of ${gracePeriod} ms`,
    });
  }

  /** Whether Redis answered the last command (and the connection is up). */
  get available(): boolean {
    return this.#session.available;
  }

  /** The Redis key that holds a task's latest claim. */
  keyFor(taskName: string): string {
    return `${this.keyPrefix}${taskName}`;
  }

  /**
   * Connects (or, with a client you passed, makes sure it connects) and waits
   * up to `gracePeriod` for the connection. Resolves when Redis cannot be
   * reached: ticks are then skipped (or run) until it can be. Rejects with a
   * `RedisCoordinatorError` (`operation: 'connect'`, `kind: 'permanent'`) when
   * the server refuses the connection for good — a wrong password or user
   * name (`WRONGPASS`, `NOAUTH`), a missing permission — since no tick could
   * ever be claimed; it closes what it opened first.
   */
  start(): Promise<void> {
    return this.#session.start();
  }

  /**
   * Answers claims still under way (`decision: 'stopped'`), stops listening,
   * and closes a connection it opened (waiting at most a second for commands
   * in flight). A client you connected yourself stays open.
   */
  stop(): Promise<void> {
    return this.#session.stop();
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
    if (!this.#session.running) {
      return this.#answer(request, {
        decision: 'stopped',
        considered: false,
        granted: false,
        reason: 'the coordinator is not started',
      });
    }
    const tick = request.taskExecutionTime;
    const sentAt = systemClock.now();
    const deadline = Math.max(tick + this.gracePeriod, sentAt + MINIMUM_WAIT);
    const key = this.keyFor(request.taskName);
    const args = [request.requestResponseId, request.submitterId, String(tick), String(this.gracePeriod), this.#token];
    // A retry reuses the same request id, so a claim that was granted but
    // whose answer was lost on a dropped connection is granted again.
    const outcome = await this.#session.run('claim', () => `the claim of "${request.taskName}"`, deadline, (connection) =>
      connection.evalScript(claimScript, [key], args),
    );
    if (outcome.ok) {
      let reply: ClaimReply;
      try {
        reply = decodeClaimReply(outcome.reply);
      } catch (error) {
        return this.#unavailable(
          request,
          new RedisCoordinatorError('claim', errorMessage(error), { cause: error, code: 'reply', kind: 'permanent' }),
        );
      }
      this.#session.observeServerTime(reply.serverTime, sentAt, systemClock.now());
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
   * Records how a granted run ended (`succeeded`, `failed` or `cancelled`) on
   * the task's key. Best effort: never rejects; an outcome for a claim that is
   * no longer the task's latest is not recorded.
   */
  async updateDistributedTaskRequest(request: IDistributedTaskRequest): Promise<void> {
    await this.recordOutcome(request);
  }

  /**
   * Like `updateDistributedTaskRequest`, but tells what happened: `recorded`,
   * `superseded` (not the task's latest claim, or never granted), `conflict`
   * (another outcome was recorded already), `ignored` (a status other than
   * `succeeded` / `failed` / `cancelled`, or a malformed request) or `unavailable`.
   */
  async recordOutcome(
    request: IDistributedTaskRequest,
  ): Promise<'recorded' | 'superseded' | 'conflict' | 'ignored' | 'unavailable'> {
    if (this.#checkRequest(request) !== undefined) return 'ignored';
    if (request.status !== 'succeeded' && request.status !== 'failed' && request.status !== 'cancelled') return 'ignored';
    if (!this.#session.running) return 'unavailable';
    const deadline = systemClock.now() + Math.max(this.gracePeriod, MINIMUM_WAIT);
    const key = this.keyFor(request.taskName);
    const args = [request.requestResponseId, request.status, String(request.taskExecutionTime), this.#token];
    const outcome = await this.#session.run('outcome', () => `the outcome of "${request.taskName}"`, deadline, (connection) =>
      connection.evalScript(outcomeScript, [key], args),
    );
    if (!outcome.ok) return 'unavailable';
    try {
      return decodeOutcomeReply(outcome.reply);
    } catch {
      return 'unavailable';
    }
  }

  /**
   * Hands back a tick this instance claimed but never started (its manager is
   * stopping): Redis records it as `cancelled` and grants it again to the next
   * instance that asks for it within `gracePeriod`. Ignored for a claim that
   * is not this instance's latest, or whose outcome is recorded. Best effort:
   * never rejects.
   */
  override async abandonDistributedTaskRequest(request: IDistributedTaskRequest): Promise<void> {
    await this.abandonClaim(request);
  }

  /**
   * Like `abandonDistributedTaskRequest`, but tells what happened: `abandoned`,
   * `superseded` (not this instance's latest claim of the task), `ended` (its
   * outcome was recorded already), `ignored` (a malformed request) or
   * `unavailable`.
   */
  async abandonClaim(request: IDistributedTaskRequest): Promise<AbandonDecision | 'ignored' | 'unavailable'> {
    if (this.#checkRequest(request) !== undefined) return 'ignored';
    if (!this.#session.running) return 'unavailable';
    const deadline = systemClock.now() + Math.max(this.gracePeriod, MINIMUM_WAIT);
    const key = this.keyFor(request.taskName);
    const args = [request.requestResponseId, String(request.taskExecutionTime), this.#token];
    const outcome = await this.#session.run('outcome', () => `the hand-back of "${request.taskName}"`, deadline, (connection) =>
      connection.evalScript(abandonScript, [key], args),
    );
    if (!outcome.ok) return 'unavailable';
    try {
      return decodeAbandonReply(outcome.reply);
    } catch {
      return 'unavailable';
    }
  }

  /**
   * Reads what Redis holds for a task (its latest claim), or `undefined` if no
   * tick of it was ever claimed. Rejects with a `RedisCoordinatorError` when
   * Redis cannot be reached within `gracePeriod`.
   */
  async getTaskState(taskName: string): Promise<RedisTaskState | undefined> {
    if (typeof taskName !== 'string' || taskName === '') invalidOption('taskName', 'a non-empty string', taskName);
    if (!this.#session.running) {
      throw new RedisCoordinatorError('read', 'The coordinator is not started', { code: 'stopped', kind: 'permanent' });
    }
    const key = this.keyFor(taskName);
    const deadline = systemClock.now() + Math.max(this.gracePeriod, MINIMUM_WAIT);
    const outcome = await this.#session.run('read', () => `the read of the state of task "${taskName}"`, deadline, (connection) =>
      connection.command(['HGETALL', key]),
    );
    if (!outcome.ok) throw outcome.error;
    const fields = toFieldMap(outcome.reply);
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
      cancelled: Number(fields.get('cancelled') ?? 0),
      handedBack: fields.get('abandoned') === '1',
    };
  }

  // -------------------------------------------------------------------------

  #unavailable(request: IDistributedTaskRequest, error: RedisCoordinatorError): RedisClaimResult {
    this.#session.noteOutageCost();
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
        reason =
          reply.owner === request.submitterId
            ? `tick already claimed by ${reply.owner} in another process with the same instanceId (give each process its own)`
            : `tick already claimed by ${reply.owner}`;
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
