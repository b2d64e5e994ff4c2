import { invalidOption } from '@taskbuffer/core';
import { ClusterView, type ViewBatch } from './cluster-view.js';
import type { DashboardInstanceState, MergedSnapshot, MergedSourceListener } from './dashboard-types.js';
import { type RedisConnectionOptions, resolveConnectionOptions } from './redis-connection-options.js';
import {
  DEFAULT_RELAY_PREFIX,
  RELAY_FORMAT_VERSION,
  type RelayCommand,
  type RelayKeys,
  decodeEntry,
  decodePresence,
  decodeReply,
  entriesOf,
  relayKeys,
} from './relay-format.js';
import { RelayLink, type RelayLogger } from './relay-link.js';
import { RunTracker } from './run-tracker.js';

/** Options of {@link RedisDashboardSource}: how to reach Redis, plus how to read it. */
export interface RedisDashboardSourceOptions extends RedisConnectionOptions {
  /** The `keyPrefix` the relays write under. @default 'taskbuffer:dashboard:' */
  keyPrefix?: string;
  /** While someone watches: how often the stream is read, ms. @default 100 */
  pollMs?: number;
  /** While someone watches: how often presence is read, ms. @default 1000 */
  presenceMs?: number;
  /** How long a gone instance stays listed, with its tasks, ms. @default 600000 (10 min) */
  forgetAfterMs?: number;
  /** Runs kept per task over all instances. @default 200 */
  runsPerTask?: number;
  /** Runs kept over all tasks. @default 20000 */
  maxRuns?: number;
  /** The most events one update carries; the rest are counted. @default 100 */
  maxEventsPerUpdate?: number;
  /** How long a trigger waits for the instance's answer, ms. @default 5000 */
  triggerTimeoutMs?: number;
  /** How long one Redis command may take, ms. @default 2000 */
  commandTimeoutMs?: number;
  /** Where an outage is logged (one line when it starts, one when it ends). @default console */
  logger?: RelayLogger;
}

/** Refused: no instance has the task (its `name` is what the dashboard handler answers 404 to). */
export class RelayTaskNotFoundError extends Error {
  override readonly name = 'TaskNotFoundError';
  readonly taskName: string;
  constructor(taskName: string) {
    super(`No live instance has a task named "${taskName}"`);
    this.taskName = taskName;
  }
}

function checkMs(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) invalidOption(option, 'a positive number of ms', value);
  return value;
}

function checkCount(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) invalidOption(option, 'a non-negative integer', value);
  return value;
}

/** Stream entries read per round trip. */
const READ_COUNT = 500;

/**
 * The merged dashboard of every instance relayed with `relayToRedis` under
 * one key prefix: a dashboard *source* (the `DashboardSource` of
 * `@taskbuffer/dashboard`) to pass to `createDashboardHandler({ source })`.
 *
 * It reads the capped stream from its start (the recent past of every
 * instance) and then follows it, and reads the instances' presence records:
 * an instance whose record expired (it stopped heartbeating) or that left is
 * listed as `gone`, with its tasks, for `forgetAfterMs`. Same-named tasks of
 * several instances show as one row with the instances that have it. While
 * Redis cannot be read, watchers are told (`problem`) and reading goes on.
 *
 * @example
 * ```ts
 * const source = new RedisDashboardSource({ url: process.env.REDIS_URL });
 * http.createServer(createDashboardHandler({ source })).listen(3000, '127.0.0.1');
 * ```
 */
export class RedisDashboardSource {
  readonly #keys: RelayKeys;
  readonly #link: RelayLink;
  readonly #view: ClusterView;
  readonly #pollMs: number;
  readonly #presenceMs: number;
  readonly #runsPerTask: number;
  readonly #triggerTimeoutMs: number;
  readonly #listeners = new Set<MergedSourceListener>();
  #lastId = '0-0';
  #lastPresence = -Infinity;
  #refreshing: Promise<void> | undefined;
  #pollTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #synced = false;
  /** What cannot be read right now: Redis itself, and entries of a format this version cannot read. */
  #linkProblem: string | undefined;
  #formatProblem: string | undefined;
  #skipped = 0;
  #reported: string | undefined;
  #nextTarget = 0;
  /** Folds each instance's events into runs; a new session (a restart) starts afresh. */
  readonly #trackers = new Map<string, { session: string; tracker: RunTracker }>();

  constructor(options: RedisDashboardSourceOptions = {}) {
    if (typeof options !== 'object' || options === null) invalidOption('options', 'an object', options);
    const target = resolveConnectionOptions(options);
    const keyPrefix = options.keyPrefix === undefined ? DEFAULT_RELAY_PREFIX : options.keyPrefix;
    if (typeof keyPrefix !== 'string') invalidOption('keyPrefix', 'a string', keyPrefix);
    this.#pollMs = checkMs('pollMs', options.pollMs, 100);
    this.#presenceMs = checkMs('presenceMs', options.presenceMs, 1000);
    const forgetAfterMs = checkMs('forgetAfterMs', options.forgetAfterMs, 600_000);
    this.#runsPerTask = checkCount('runsPerTask', options.runsPerTask, 200);
    const maxRuns = checkCount('maxRuns', options.maxRuns, 20_000);
    const maxEventsPerUpdate = checkCount('maxEventsPerUpdate', options.maxEventsPerUpdate, 100);
    this.#triggerTimeoutMs = checkMs('triggerTimeoutMs', options.triggerTimeoutMs, 5000);
    const commandTimeoutMs = checkMs('commandTimeoutMs', options.commandTimeoutMs, 2000);
    const logger = options.logger ?? console;
    if (typeof logger !== 'object' || logger === null || typeof logger.warn !== 'function' || typeof logger.info !== 'function') {
      invalidOption('logger', 'an object with `warn` and `info` methods', logger);
    }
    this.#keys = relayKeys(keyPrefix);
    this.#link = new RelayLink({
      target,
      ownerName: 'RedisDashboardSource',
      operation: 'read',
      logger,
      commandTimeoutMs,
      consequence: 'the merged dashboard shows what it read last, and says so, until it is back',
    });
    this.#view = new ClusterView({ runsPerTask: this.#runsPerTask, maxRuns, forgetAfterMs, maxEventsPerUpdate });
  }

  /** Every instance seen, live or gone, as of the last read. */
  get instances(): DashboardInstanceState[] {
    return this.#view.instances();
  }

  /**
   * Everything, merged: reads Redis first. While Redis cannot be read, answers
   * what was read last (and watchers hear why); rejects only when nothing
   * could ever be read.
   */
  async getSnapshot(request: { nextRunsLimit?: number; runs?: boolean } = {}): Promise<MergedSnapshot> {
    if (this.#closed) throw new Error('This dashboard source is closed');
    await this.#refresh(true);
    if (!this.#synced) throw new Error(this.#linkProblem ?? 'Redis could not be read');
    return this.#view.snapshot(Date.now(), {
      nextRunsLimit: request.nextRunsLimit ?? 10,
      runs: request.runs !== false,
      runsPerTask: this.#runsPerTask,
    });
  }

  /** Delivers batches of merged changes until `unsubscribe()`; reads Redis only while someone watches. */
  subscribe(listener: MergedSourceListener): { unsubscribe(): void } {
    if (this.#closed) throw new Error('This dashboard source is closed');
    // Changes from before are in the snapshot the watcher takes; only newer ones go out.
    if (this.#listeners.size === 0) this.#view.clearChanges();
    this.#listeners.add(listener);
    this.#schedulePoll(0);
    if (this.#reported !== undefined) listener.problem?.(this.#reported);
    return {
      unsubscribe: () => {
        if (!this.#listeners.delete(listener) || this.#listeners.size > 0) return;
        clearTimeout(this.#pollTimer);
        this.#pollTimer = undefined;
      },
    };
  }

  /**
   * Starts a run of `taskName` on one live instance that has it and takes
   * triggers (`relayToRedis(…, { allowTrigger: true })`), trying the next one
   * if that one no longer has it. Rejects with a `TaskNotFoundError` when none
   * has it.
   */
  async trigger(taskName: string): Promise<void> {
    if (this.#closed) throw new Error('This dashboard source is closed');
    if (typeof taskName !== 'string' || taskName === '') invalidOption('taskName', 'a non-empty string', taskName);
    await this.#refresh(true);
    const live = this.#view.instances().filter((instance) => instance.status === 'live');
    const takers = live.filter((instance) => instance.triggers);
    const owners = takers.filter((instance) => this.#view.has(instance.id, taskName));
    if (owners.length === 0 && live.some((instance) => this.#view.has(instance.id, taskName))) {
      throw new Error(`No live instance that has "${taskName}" takes triggers (relayToRedis option \`allowTrigger\`)`);
    }
    // Owners first, taking turns; then the others, whose presence may predate the task.
    const turn = this.#nextTarget++;
    const ordered = [
      ...owners.map((_, index) => owners[(index + turn) % owners.length]!),
      ...takers.filter((instance) => !owners.includes(instance)),
    ];
    let unanswered: string | undefined;
    for (const instance of ordered) {
      const reply = await this.#command(instance.id, taskName);
      if (reply === 'ok') return;
      if (reply === 'not-found') continue;
      unanswered = instance.id;
      break;
    }
    if (unanswered !== undefined) {
      throw new Error(`Instance "${unanswered}" did not answer the trigger of "${taskName}" within ${this.#triggerTimeoutMs} ms`);
    }
    throw new RelayTaskNotFoundError(taskName);
  }

  /** Stops reading and closes the connection. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    clearTimeout(this.#pollTimer);
    await this.#refreshing?.catch(() => undefined);
    await this.#link.stop();
  }

  /** Sends one trigger command; `'unanswered'` when the instance did not take it in time. */
  async #command(instanceId: string, taskName: string): Promise<'ok' | 'not-found' | 'unanswered'> {
    const command: RelayCommand = {
      v: RELAY_FORMAT_VERSION,
      id: `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`,
      type: 'trigger',
      taskName,
    };
    const text = JSON.stringify(command);
    const queue = this.#keys.commands(instanceId);
    await this.#link.send(['RPUSH', queue, text]);
    // A queue of an instance that is gone does not outlive the commands' use.
    await this.#link.send(['PEXPIRE', queue, String(this.#triggerTimeoutMs * 2)]);
    const deadline = Date.now() + this.#triggerTimeoutMs;
    for (;;) {
      const raw = await this.#link.send(['LPOP', this.#keys.reply(command.id)]);
      if (raw !== null && raw !== undefined) {
        const reply = decodeReply(raw);
        if (reply.ok) return 'ok';
        if (reply.notFound === true) return 'not-found';
        throw new Error(`Instance "${instanceId}" could not trigger "${taskName}": ${reply.error ?? 'unknown error'}`);
      }
      if (Date.now() >= deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    // Taken back unanswered: it never runs, so another instance may be asked. Taken by the instance: it may run.
    const removed = await this.#link.send(['LREM', queue, '1', text]);
    return Number(removed) === 1 ? 'not-found' : 'unanswered';
  }

  #schedulePoll(delay: number): void {
    if (this.#closed || this.#listeners.size === 0 || this.#pollTimer !== undefined) return;
    this.#pollTimer = setTimeout(() => {
      this.#pollTimer = undefined;
      void this.#refresh(false).finally(() => {
        this.#emit();
        this.#schedulePoll(this.#pollMs);
      });
    }, delay);
    this.#pollTimer.unref?.();
  }

  /** Reads presence (when due, or `force`) and the stream; never rejects. */
  #refresh(force: boolean): Promise<void> {
    const run = async (): Promise<void> => {
      try {
        const now = Date.now();
        if (force || now - this.#lastPresence >= this.#presenceMs) {
          await this.#readPresence();
          this.#lastPresence = now;
        }
        await this.#readStream();
        this.#synced = true;
        this.#linkProblem = undefined;
      } catch (error) {
        this.#linkProblem = `Cannot read the cluster from Redis: ${error instanceof Error ? error.message : String(error)}. Retrying.`;
      }
      if (this.#listeners.size === 0) this.#view.clearChanges();
    };
    const previous = this.#refreshing;
    // A forced read waits for one under way and then reads again, so it sees everything up to now.
    const next = previous === undefined ? run() : force ? previous.then(run) : previous;
    const tracked = next.finally(() => {
      if (this.#refreshing === tracked) this.#refreshing = undefined;
    });
    this.#refreshing = tracked;
    return tracked;
  }

  async #readPresence(): Promise<void> {
    const members = await this.#link.send(['SMEMBERS', this.#keys.instances]);
    const ids = new Set<string>(this.#view.liveIds());
    for (const member of Array.isArray(members) ? members : []) ids.add(String(member));
    const now = Date.now();
    const records = await Promise.all([...ids].map((id) => this.#link.send(['GET', this.#keys.instance(id)])));
    let index = 0;
    for (const id of ids) {
      const record = decodePresence(records[index++]);
      if (record === undefined) {
        if (this.#view.liveIds().includes(id)) this.#view.markGone(id, now);
        // Never seen alive by anyone still reading: an id left behind by an instance long gone.
        else await this.#link.send(['SREM', this.#keys.instances, id]);
      } else if ('problem' in record) {
        this.#skip(`instance "${id}" wrote ${record.problem}`);
      } else {
        this.#view.applyPresence({ ...record, id }, now);
      }
    }
    this.#view.forgetGone(now);
  }

  async #readStream(): Promise<void> {
    for (;;) {
      const reply = await this.#link.send(['XREAD', 'COUNT', String(READ_COUNT), 'STREAMS', this.#keys.stream, this.#lastId]);
      const entries = entriesOf(reply, true);
      const now = Date.now();
      for (const raw of entries) {
        const entry = decodeEntry(raw);
        if (entry.id !== '?') this.#lastId = entry.id;
        if (!entry.ok) {
          this.#skip(`${entry.instanceId === undefined ? 'the stream holds' : `instance "${entry.instanceId}" wrote`} ${entry.problem}`);
          continue;
        }
        if (entry.kind === 'leave') {
          this.#view.markGone(entry.instanceId, now);
          continue;
        }
        const { batch, instanceId } = entry;
        let folding = this.#trackers.get(instanceId);
        if (folding === undefined || folding.session !== batch.session) {
          folding = { session: batch.session, tracker: new RunTracker(`${instanceId}:${batch.session}`) };
          this.#trackers.set(instanceId, folding);
        }
        for (const event of batch.events) folding.tracker.add(event, instanceId);
        if (batch.unknownEvents > 0) {
          this.#skip(`instance "${instanceId}" wrote ${batch.unknownEvents} event${batch.unknownEvents === 1 ? '' : 's'} of a type this dashboard does not know`);
        }
        const folded: ViewBatch = {
          time: batch.time,
          tasks: batch.tasks,
          events: batch.events,
          runs: folding.tracker.takeChanges(),
          droppedEvents: batch.lostEvents,
        };
        if (batch.constraintGroups !== undefined) folded.constraintGroups = batch.constraintGroups;
        this.#view.applyBatch(instanceId, folded, now);
      }
      if (entries.length < READ_COUNT) return;
    }
  }

  #skip(problem: string): void {
    this.#skipped++;
    this.#formatProblem = `Skipped ${this.#skipped} record${this.#skipped === 1 ? '' : 's'} this dashboard cannot read (latest: ${problem}); still reading`;
  }

  /** Sends pending changes and, when it changed, what is wrong. */
  #emit(): void {
    const problem = this.#linkProblem ?? this.#formatProblem;
    if (problem !== this.#reported) {
      this.#reported = problem;
      for (const listener of [...this.#listeners]) listener.problem?.(problem);
    }
    const update = this.#view.takeUpdate(Date.now());
    if (update === undefined) return;
    for (const listener of [...this.#listeners]) listener.update(update);
  }
}
