import {
  type ConstraintGroupSnapshot,
  type IScheduledRun,
  type IScheduledTaskInfo,
  type ITaskEvent,
  type ITaskMetadata,
  invalidOption,
} from '@taskbuffer/core';
import type { RelayedScheduledRun, RelayedScheduledTask, RelayedTask } from './dashboard-types.js';
import { type RedisConnectionOptions, resolveConnectionOptions } from './redis-connection-options.js';
import {
  DEFAULT_RELAY_PREFIX,
  RELAY_FORMAT_VERSION,
  type PresenceRecord,
  type RelayKeys,
  type RelayReply,
  type WireBatch,
  type WireEvent,
  decodeCommand,
  encodeEntry,
  encodeEvent,
  relayKeys,
} from './relay-format.js';
import { RelayLink, type RelayLogger } from './relay-link.js';

/** What the relay reads from a manager: a `TaskManager` from `@taskbuffer/core` fits. */
export interface RelayedManager {
  getAllTasksMetadata(): ITaskMetadata[];
  getScheduledTasks?(): IScheduledTaskInfo[];
  getNextScheduledRuns?(limit?: number): IScheduledRun[];
  readonly constraintGroups?: ReadonlyArray<{
    readonly name: string;
    readonly cooldownMs?: number;
    getSnapshot?(): ConstraintGroupSnapshot;
  }>;
  readonly taskSubject: {
    subscribe(next: (event: ITaskEvent) => void): { unsubscribe(): void };
  };
  readonly instanceId?: string;
  triggerTaskByName?(name: string, input?: unknown): Promise<unknown>;
}

/** Options of {@link relayToRedis}: how to reach Redis, plus what to publish. */
export interface RelayToRedisOptions extends RedisConnectionOptions {
  /**
   * The instance's name in the merged dashboard; unique per running process.
   * @default manager.instanceId
   */
  instanceId?: string;
  /**
   * Prefix of every key the relay writes; relays and sources that share it
   * form one dashboard.
   * @default 'taskbuffer:dashboard:'
   */
  keyPrefix?: string;
  /** Events within this window go out as one stream entry. @default 100 */
  flushMs?: number;
  /** How often the instance refreshes its presence and what it has. @default 1000 */
  heartbeatMs?: number;
  /**
   * How long after its last heartbeat an instance counts as gone (its
   * presence record expires then). At least twice `heartbeatMs`. @default 5000
   */
  presenceTimeoutMs?: number;
  /**
   * The stream's cap, in entries, over all instances (`XADD … MAXLEN ~`);
   * Redis trims whole nodes, so it holds up to about 100 entries more.
   * @default 1000
   */
  maxLength?: number;
  /** An entry goes out early once it holds this many events. @default 1000 */
  maxEventsPerEntry?: number;
  /**
   * Events kept for a retry while Redis cannot be written; beyond that the
   * oldest are dropped (and counted). @default 50000
   */
  maxUnsentEvents?: number;
  /**
   * Let the merged dashboard trigger this instance's tasks (its handler's
   * `allowTrigger` and `authorize` still decide who may).
   * @default false
   */
  allowTrigger?: boolean;
  /** With `allowTrigger`: how often the instance looks for commands, ms. @default 250 */
  commandPollMs?: number;
  /** How long one Redis command may take, ms. @default 2000 */
  commandTimeoutMs?: number;
  /** Where an outage is logged (one line when it starts, one when it ends). @default console */
  logger?: RelayLogger;
}

/** A running relay: see {@link relayToRedis}. */
export interface DashboardRelay {
  readonly instanceId: string;
  /** Entries written so far. */
  readonly entriesWritten: number;
  /** Writes what is pending now and waits for it. */
  flush(): Promise<void>;
  /** Stops relaying: writes what is pending, says the instance left, closes its connection. */
  close(): Promise<void>;
}

function toEpoch(date: Date | undefined): number | undefined {
  if (date === undefined) return undefined;
  const time = date instanceof Date ? date.getTime() : new Date(date).getTime();
  return Number.isNaN(time) ? undefined : time;
}

function toTask(metadata: ITaskMetadata): RelayedTask {
  const { lastRun, nextRun, ...rest } = metadata;
  const task: RelayedTask = rest;
  const last = toEpoch(lastRun);
  if (last !== undefined) task.lastRun = last;
  const next = toEpoch(nextRun);
  if (next !== undefined) task.nextRun = next;
  return task;
}

function checkMs(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) invalidOption(option, 'a positive number of ms', value);
  return value;
}

function checkCount(option: string, value: unknown, fallback: number, minimum: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum) {
    invalidOption(option, minimum === 0 ? 'a non-negative integer' : `an integer of at least ${minimum}`, value);
  }
  return value;
}

/**
 * Publishes a manager to a merged dashboard through Redis: its events, a few
 * bytes each, as batched entries of one capped stream (`XADD … MAXLEN ~`,
 * one entry per `flushMs` with the newest metadata of the tasks that had
 * events), and what it has (tasks, schedules, constraint groups) as a
 * presence record it refreshes every `heartbeatMs` and that expires when it
 * stops. A `RedisDashboardSource` reading the same `keyPrefix` merges every
 * instance and folds the events into runs.
 *
 * The relay never throws into the manager: while Redis is down it keeps the
 * events (up to `maxUnsentEvents`) and writes them, in order, once Redis is
 * back, logging the outage once.
 *
 * @example
 * ```ts
 * const relay = relayToRedis(manager, { url: process.env.REDIS_URL, instanceId: 'web-1' });
 * // …
 * await relay.close();
 * ```
 */
export function relayToRedis(manager: RelayedManager, options: RelayToRedisOptions = {}): DashboardRelay {
  const candidate = manager as Partial<RelayedManager> | null;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.getAllTasksMetadata !== 'function' ||
    typeof candidate.taskSubject?.subscribe !== 'function'
  ) {
    invalidOption('manager', 'a TaskManager', manager);
  }
  if (typeof options !== 'object' || options === null) invalidOption('options', 'an object', options);
  const target = resolveConnectionOptions(options);
  const instanceId = options.instanceId ?? manager.instanceId;
  if (typeof instanceId !== 'string' || instanceId === '') invalidOption('instanceId', 'a non-empty string', instanceId);
  const keyPrefix = options.keyPrefix === undefined ? DEFAULT_RELAY_PREFIX : options.keyPrefix;
  if (typeof keyPrefix !== 'string') invalidOption('keyPrefix', 'a string', keyPrefix);
  const flushMs = checkMs('flushMs', options.flushMs, 100);
  const heartbeatMs = checkMs('heartbeatMs', options.heartbeatMs, 1000);
  const presenceTimeoutMs = checkMs('presenceTimeoutMs', options.presenceTimeoutMs, Math.max(5000, heartbeatMs * 2));
  if (presenceTimeoutMs < heartbeatMs * 2) {
    invalidOption('presenceTimeoutMs', `at least twice \`heartbeatMs\` (${heartbeatMs * 2} ms)`, presenceTimeoutMs);
  }
  const maxLength = checkCount('maxLength', options.maxLength, 1000, 1);
  const maxEvents = checkCount('maxEventsPerEntry', options.maxEventsPerEntry, 1000, 1);
  const maxUnsent = checkCount('maxUnsentEvents', options.maxUnsentEvents, 50_000, 0);
  const allowTrigger = options.allowTrigger ?? false;
  if (typeof allowTrigger !== 'boolean') invalidOption('allowTrigger', 'a boolean', allowTrigger);
  if (allowTrigger && typeof manager.triggerTaskByName !== 'function') {
    invalidOption('manager', 'a TaskManager with `triggerTaskByName` when `allowTrigger` is true', manager);
  }
  const commandPollMs = checkMs('commandPollMs', options.commandPollMs, 250);
  const commandTimeoutMs = checkMs('commandTimeoutMs', options.commandTimeoutMs, 2000);
  const logger = options.logger ?? console;
  if (typeof logger !== 'object' || logger === null || typeof logger.warn !== 'function' || typeof logger.info !== 'function') {
    invalidOption('logger', 'an object with `warn` and `info` methods', logger);
  }

  const keys: RelayKeys = relayKeys(keyPrefix);
  const link = new RelayLink({
    target,
    ownerName: `relayToRedis (${instanceId})`,
    operation: 'relay',
    logger,
    commandTimeoutMs,
    consequence: `the merged dashboard misses this instance's events until it is back (up to ${maxUnsent} are kept and written then)`,
  });
  const session = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

  // The batch being gathered.
  let tasks = new Map<string, ITaskMetadata>();
  let names: string[] = [];
  let nameIndex = new Map<string, number>();
  let events: WireEvent[] = [];
  let start = 0;
  // Batches a failed write left, oldest first; written before anything newer.
  const unsent: WireBatch[] = [];
  let unsentEvents = 0;
  let lostEvents = 0;
  let flushTimer: ReturnType<typeof setTimeout> | undefined;
  let writing: Promise<void> | undefined;
  let closed = false;
  let entriesWritten = 0;

  const pending = () => unsent.length > 0 || events.length > 0 || tasks.size > 0;

  const takeBatch = (): WireBatch => {
    const batch: WireBatch = {
      time: Date.now(),
      session,
      start,
      names,
      events,
      lostEvents,
      tasks: [...tasks.values()].map(toTask),
    };
    if ((manager.constraintGroups?.length ?? 0) > 0) batch.constraintGroups = groupSnapshots();
    tasks = new Map();
    names = [];
    nameIndex = new Map();
    events = [];
    lostEvents = 0;
    return batch;
  };

  /** Writes everything pending, one entry at a time, oldest first; a second call waits for the first. */
  const write = (): Promise<void> => {
    if (flushTimer !== undefined) {
      clearTimeout(flushTimer);
      flushTimer = undefined;
    }
    if (writing !== undefined) return writing.then(() => (pending() ? write() : undefined));
    if (!pending()) return Promise.resolve();
    const retry = unsent.length > 0;
    const batch = retry ? unsent[0]! : takeBatch();
    writing = link
      .send(['XADD', keys.stream, 'MAXLEN', '~', String(maxLength), '*', ...encodeEntry(instanceId, 'batch', batch)])
      .then(
        () => {
          entriesWritten++;
          if (retry) {
            unsent.shift();
            unsentEvents -= batch.events.length;
          }
          // More waits (a backlog, or events that came meanwhile): write it now, not a flush later.
          if (unsent.length > 0) queueMicrotask(() => void write());
        },
        () => {
          // Redis is down: keep the batch, in order, for the next attempt.
          if (!retry) {
            unsent.push(batch);
            unsentEvents += batch.events.length;
            while (unsentEvents > maxUnsent && unsent.length > 0) {
              const dropped = unsent.shift()!;
              unsentEvents -= dropped.events.length;
              lostEvents += dropped.events.length + dropped.lostEvents;
            }
          }
          scheduleFlush(Math.max(flushMs, 1000));
        },
      )
      .finally(() => {
        writing = undefined;
      });
    return writing;
  };

  const scheduleFlush = (delay: number): void => {
    if (flushTimer !== undefined || closed) return;
    flushTimer = setTimeout(() => {
      flushTimer = undefined;
      void write();
    }, delay);
    flushTimer.unref?.();
  };

  const onEvent = (event: ITaskEvent): void => {
    const name = event.task.name;
    let index = nameIndex.get(name);
    if (index === undefined) {
      index = names.length;
      names.push(name);
      nameIndex.set(name, index);
    }
    tasks.set(name, event.task);
    if (events.length === 0) start = event.timestamp;
    events.push(encodeEvent(event, index, start));
    if (events.length >= maxEvents && writing === undefined) void write();
    else scheduleFlush(flushMs);
  };

  const groupSnapshots = (): ConstraintGroupSnapshot[] => {
    const snapshots: ConstraintGroupSnapshot[] = [];
    for (const group of manager.constraintGroups ?? []) {
      const snapshot = group.getSnapshot?.();
      if (snapshot !== undefined) snapshots.push(snapshot);
    }
    return snapshots;
  };

  const presence = (): PresenceRecord => {
    const scheduled: RelayedScheduledTask[] = (manager.getScheduledTasks?.() ?? []).map((info) => {
      const entry: RelayedScheduledTask = { name: info.name, schedule: info.schedule };
      const next = toEpoch(info.nextRun);
      if (next !== undefined) entry.nextRun = next;
      if (info.timezone !== undefined) entry.timezone = info.timezone;
      return entry;
    });
    const nextRuns: RelayedScheduledRun[] = [];
    for (const run of manager.getNextScheduledRuns?.(10) ?? []) {
      const next = toEpoch(run.nextRun);
      if (next !== undefined) nextRuns.push({ taskName: run.taskName, nextRun: next, schedule: run.schedule });
    }
    return {
      v: RELAY_FORMAT_VERSION,
      id: instanceId,
      time: Date.now(),
      heartbeatMs,
      timeoutMs: presenceTimeoutMs,
      triggers: allowTrigger,
      tasks: manager.getAllTasksMetadata().map(toTask),
      scheduled,
      nextRuns,
      constraintGroups: groupSnapshots(),
    };
  };

  let heartbeating: Promise<void> | undefined;
  // Beats until the id is added to the set again: at once, after a failure, and every tenth beat
  // (a server that lost its data learns of the instance again); the record alone is refreshed every beat.
  let beatsToAnnounce = 0;
  const heartbeat = (): Promise<void> => {
    if (closed || heartbeating !== undefined) return heartbeating ?? Promise.resolve();
    heartbeating = (async () => {
      try {
        // The record first: a reader that finds the id in the set finds what it has.
        await link.send(['SET', keys.instance(instanceId), JSON.stringify(presence()), 'PX', String(presenceTimeoutMs)]);
        if (beatsToAnnounce-- <= 0) {
          await link.send(['SADD', keys.instances, instanceId]);
          beatsToAnnounce = 9;
        }
      } catch {
        // Logged by the link; the next heartbeat tries again, announcing the instance.
        beatsToAnnounce = 0;
      } finally {
        heartbeating = undefined;
      }
    })();
    return heartbeating;
  };

  let commandTimer: ReturnType<typeof setTimeout> | undefined;
  const answer = async (commandId: string, reply: RelayReply): Promise<void> => {
    await link.send(['RPUSH', keys.reply(commandId), JSON.stringify(reply)]);
    await link.send(['PEXPIRE', keys.reply(commandId), '60000']);
  };
  const pollCommands = async (): Promise<void> => {
    try {
      const reply = await link.send(['LPOP', keys.commands(instanceId), '16']);
      for (const raw of Array.isArray(reply) ? reply : []) {
        const command = decodeCommand(raw);
        if (command === undefined) continue;
        const known = manager.getAllTasksMetadata().some((task) => task.name === command.taskName);
        if (known) {
          // The outcome reaches the dashboard as events; a rejection is handled here so it is never unhandled.
          manager.triggerTaskByName!(command.taskName).catch(() => undefined);
        }
        await answer(command.id, known ? { v: RELAY_FORMAT_VERSION, ok: true } : { v: RELAY_FORMAT_VERSION, ok: false, notFound: true });
      }
    } catch {
      // Logged by the link; polled again below.
    }
    if (closed) return;
    commandTimer = setTimeout(() => void pollCommands(), commandPollMs);
    commandTimer.unref?.();
  };

  const subscription = manager.taskSubject.subscribe(onEvent);
  void link.start().catch(() => undefined);
  void heartbeat();
  const heartbeatTimer = setInterval(() => void heartbeat(), heartbeatMs);
  heartbeatTimer.unref?.();
  if (allowTrigger) void pollCommands();

  let closing: Promise<void> | undefined;
  return {
    instanceId,
    get entriesWritten() {
      return entriesWritten;
    },
    flush: () => write(),
    close(): Promise<void> {
      closing ??= (async () => {
        subscription.unsubscribe();
        clearInterval(heartbeatTimer);
        clearTimeout(commandTimer);
        await write();
        closed = true;
        clearTimeout(flushTimer);
        await heartbeating;
        // Redis is down (what was pending could not be written): readers see the instance gone once its record expires.
        if (unsent.length > 0) {
          await link.stop();
          return;
        }
        try {
          await link.send(['XADD', keys.stream, 'MAXLEN', '~', String(maxLength), '*', ...encodeEntry(instanceId, 'leave')]);
          await link.send(['DEL', keys.instance(instanceId)]);
          await link.send(['SREM', keys.instances, instanceId]);
        } catch {
          // Redis is down: readers see the instance gone once its presence expires.
        }
        await link.stop();
      })();
      return closing;
    },
  };
}
