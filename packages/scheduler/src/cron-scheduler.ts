import {
  type Clock,
  type IScheduledRun,
  type IScheduledTaskInfo,
  type ScheduleOptions,
  type ScheduledRunControl,
  type SchedulerHost,
  type SchedulerPort,
  type TimerHandle,
  invalidOption,
  systemClock,
} from '@taskbuffer/core';
import { CronPattern } from './cron-pattern.js';
import { type QueueItem, ScheduleQueue } from './schedule-queue.js';
import { type TimeZone, getTimeZone, localTimeZoneName } from './time-zone.js';

/** `setTimeout` cannot wait longer; longer waits are re-armed in steps. */
const MAX_TIMER_DELAY = 2 ** 31 - 1;
/**
 * How far the wall clock may run ahead of process time before it counts as a
 * jump (suspend, clock set forward); smaller steps, like NTP's, count as lateness.
 */
const JUMP_TOLERANCE = 5000;
/** How long before a due tick a long wait ends by default, to wait the rest with a short timer (ms). */
const DEFAULT_EARLY_WAKE = 20;
/** Due ticks looked at one by one for one schedule at one wake-up; beyond it the latest is found directly. */
const MAX_DUE_TICKS = 1000;
/** Skipped ticks reported one by one for one schedule at one wake-up; the rest are summed up in one event. */
const MAX_REPORTED_TICKS = 100;

const REASON_OVERLAP = 'overlap: the previous run is still running';
const REASON_BLOCKED = 'missed: the event loop was blocked past this tick, and only the latest due tick runs';
const REASON_JUMPED = 'missed: the process was suspended or the clock jumped forward';

/** A clock, optionally with a monotonic reading that tells clock jumps from a busy event loop. */
export interface SchedulerClock extends Clock {
  /**
   * Milliseconds of process time that never jump (like `performance.now()`).
   * Without it, a custom clock's jumps count as lateness. Core's `systemClock`
   * uses `performance.now()`.
   */
  monotonicNow?(): number;
}

/** Options of `new CronScheduler()`. */
export interface CronSchedulerOptions {
  /**
   * IANA time zone in which expressions are read, unless a schedule names its own.
   * @default the process's local time zone, as classic cron
   * @example 'Europe/Berlin'
   */
  timezone?: string;
  /**
   * What a tick does while the previous run of the same task is still running:
   * `skip` reports it as a `skipped` event, `allow` runs side by side.
   * @default 'skip'
   */
  overlap?: 'skip' | 'allow';
  /**
   * Ticks missed entirely (the process was suspended, the clock jumped forward):
   * `none` reports them as `skipped` events, `last` runs the latest of them once.
   * @default 'none'
   */
  catchUp?: 'none' | 'last';
  /**
   * Whether the timer keeps the process alive while the scheduler is started,
   * as a listening server does: a script whose only work is scheduled keeps
   * running. `false` unrefs the timer, so the scheduler never holds a process
   * open by itself. Either way `stop()` clears the timer and a stopped
   * scheduler holds nothing open.
   * @default true
   */
  keepAlive?: boolean;
  /**
   * End a long wait for a tick this many ms early and wait the rest with a
   * short timer: on hosts that park idle CPUs a sleep of a second or more can
   * end several ms late, a short one ends on time. 0 turns it off.
   * @default 20 with the system clock, 0 with a `clock` of your own
   */
  earlyWakeMs?: number;
  /**
   * Where time comes from, for tests.
   * @default the clock of the TaskManager that starts the scheduler
   */
  clock?: SchedulerClock;
}

/** Options of {@link CronScheduler.nextRuns}. */
export interface NextRunsOptions {
  /**
   * Runs strictly after this time are listed.
   * @default now
   */
  from?: Date | number;
  /**
   * IANA time zone of the expression.
   * @default the scheduler's time zone
   */
  timezone?: string;
}

interface NextRunMemo {
  pattern: CronPattern | undefined;
  zone: TimeZone | undefined;
  after: number;
  next: number | undefined;
}

interface TaskState {
  /** Runs under way (a tick whose host deferred it counts once it begins). */
  running: number;
  /** Ticks handed to the host that have not begun their run yet (a claim waiting for the coordinator). */
  pending: number;
  /** The latest tick handled (run or reported); no tick at or before it is ever run again. */
  lastTick: number;
  lastRun: number | undefined;
}

interface Schedule extends QueueItem {
  /** Registration order, for listing schedules with the same next run. */
  readonly sequence: number;
  readonly taskName: string;
  readonly expression: string;
  readonly pattern: CronPattern;
  readonly zone: TimeZone;
  readonly timezone: string;
  readonly overlap: 'skip' | 'allow';
  readonly catchUp: 'none' | 'last';
  readonly state: TaskState;
}

const VALID_FROM = 'a valid Date or epoch milliseconds';
const OVERLAP_VALUES = ['skip', 'allow'] as const;
const CATCH_UP_VALUES = ['none', 'last'] as const;

function checkEnum<T extends string>(option: string, value: unknown, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T)) invalidOption(option, allowed.map((item) => `"${item}"`).join(' or '), value);
  return value as T;
}

function resolveZone(option: string, value: unknown): TimeZone {
  if (typeof value !== 'string' || value === '') {
    invalidOption(option, 'an IANA time zone name such as "Europe/Berlin"', value);
  }
  const zone = getTimeZone(value as string);
  if (zone === undefined) invalidOption(option, 'a time zone known to Intl, such as "Europe/Berlin"', value);
  return zone!;
}

function isClock(value: unknown): value is Clock {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Clock).now === 'function' &&
    typeof (value as Clock).setTimeout === 'function' &&
    typeof (value as Clock).clearTimeout === 'function'
  );
}

/**
 * Cron for a `TaskManager`: `new TaskManager({ scheduler: new CronScheduler() })`.
 *
 * All schedules share one queue (a heap of next-run instants, with the
 * schedules due at each instant in one bucket) and one timer,
 * re-armed from the wall clock after every wake-up. Expressions have 5 fields,
 * or 6 with leading seconds, and are read in a time zone with classic cron's
 * daylight-saving rules.
 */
export class CronScheduler implements SchedulerPort {
  /** The default time zone of this scheduler's schedules. */
  readonly timezone: string;
  readonly #zone: TimeZone;
  readonly #overlap: 'skip' | 'allow';
  readonly #catchUp: 'none' | 'last';
  readonly #ownClock: SchedulerClock | undefined;
  readonly #keepAlive: boolean;
  readonly #schedules = new Map<string, Schedule>();
  readonly #states = new Map<string, TaskState>();
  readonly #queue = new ScheduleQueue<Schedule>();
  #host: SchedulerHost | undefined;
  #started = false;
  #sequence = 0;
  #timer: TimerHandle | undefined;
  #timerTarget = Number.NaN;
  #armedAtWall = 0;
  #armedAtMonotonic: number | undefined;
  #early = false;
  readonly #earlyWakeMs: number;
  /** The clock the stored next runs were computed with. */
  #computedWith: Clock | undefined;

  constructor(options: CronSchedulerOptions = {}) {
    if (typeof options !== 'object' || options === null) invalidOption('options', 'an object', options);
    this.timezone = options.timezone === undefined ? localTimeZoneName() : (options.timezone as unknown as string);
    this.#zone = resolveZone('timezone', this.timezone);
    this.#overlap = checkEnum('overlap', options.overlap, OVERLAP_VALUES) ?? 'skip';
    this.#catchUp = checkEnum('catchUp', options.catchUp, CATCH_UP_VALUES) ?? 'none';
    if (options.clock !== undefined && !isClock(options.clock)) {
      invalidOption('clock', 'an object with now(), setTimeout() and clearTimeout()', options.clock);
    }
    this.#ownClock = options.clock;
    if (options.keepAlive !== undefined && typeof options.keepAlive !== 'boolean') {
      invalidOption('keepAlive', 'a boolean', options.keepAlive);
    }
    this.#keepAlive = options.keepAlive ?? true;
    const earlyWakeMs = options.earlyWakeMs;
    if (earlyWakeMs !== undefined && (typeof earlyWakeMs !== 'number' || !(earlyWakeMs >= 0) || !Number.isFinite(earlyWakeMs))) {
      invalidOption('earlyWakeMs', 'a non-negative finite number of milliseconds', earlyWakeMs);
    }
    this.#earlyWakeMs = earlyWakeMs ?? (options.clock === undefined ? DEFAULT_EARLY_WAKE : 0);
  }

  /** True between `start()` and `stop()`. */
  get started(): boolean {
    return this.#started;
  }

  // -------------------------------------------------------------------------
  // SchedulerPort
  // -------------------------------------------------------------------------

  /**
   * Registers (or replaces) a task's schedule. Throws at once for an invalid
   * expression (`InvalidCronExpressionError`), an unknown time zone or a bad
   * option (`TypeError`).
   */
  schedule(taskName: string, expression: string, options: ScheduleOptions = {}): void {
    if (typeof taskName !== 'string' || taskName === '') invalidOption('taskName', 'a non-empty string', taskName);
    if (typeof expression !== 'string') {
      invalidOption('expression', 'a cron expression string such as "*/5 * * * *"', expression);
    }
    if (typeof options !== 'object' || options === null) invalidOption('options', 'an object', options);
    const overlap = checkEnum('overlap', options.overlap, OVERLAP_VALUES) ?? this.#overlap;
    const catchUp = checkEnum('catchUp', options.catchUp, CATCH_UP_VALUES) ?? this.#catchUp;
    const zone = options.timezone === undefined ? this.#zone : resolveZone('timezone', options.timezone);
    const pattern = CronPattern.parse(expression);

    const previous = this.#schedules.get(taskName);
    if (previous !== undefined) this.#queue.remove(previous);
    let state = this.#states.get(taskName);
    if (state === undefined) {
      state = { running: 0, pending: 0, lastTick: -Infinity, lastRun: undefined };
      this.#states.set(taskName, state);
    }
    const schedule: Schedule = {
      taskName,
      expression,
      pattern,
      zone,
      timezone: options.timezone ?? this.timezone,
      overlap,
      catchUp,
      state,
      nextRun: Number.NaN,
      sequence: this.#sequence++,
      queueIndex: -1,
    };
    schedule.nextRun = this.#computeNextRun(schedule, this.#clock().now());
    this.#schedules.set(taskName, schedule);
    if (this.#started) {
      if (Number.isFinite(schedule.nextRun)) this.#queue.add(schedule);
      this.#arm();
    }
  }

  /** Removes a schedule; `false` when there was none. */
  unschedule(taskName: string): boolean {
    const schedule = this.#schedules.get(taskName);
    if (schedule === undefined) return false;
    this.#schedules.delete(taskName);
    if (schedule.state.running === 0 && schedule.state.pending === 0) this.#states.delete(taskName);
    if (this.#queue.remove(schedule) && this.#started) this.#arm();
    return true;
  }

  /** Arms the timer for every schedule; called by `TaskManager.start()`. */
  start(host: SchedulerHost): void {
    if (
      typeof host !== 'object' ||
      host === null ||
      typeof host.runScheduledTask !== 'function' ||
      typeof host.reportSkippedTick !== 'function'
    ) {
      invalidOption('host', 'a SchedulerHost (pass the scheduler to `new TaskManager({ scheduler })`)', host);
    }
    if (this.#started) return;
    this.#host = host;
    this.#started = true;
    const clock = this.#clock();
    const now = clock.now();
    // Next runs computed before start() may come from another clock than the manager's.
    const recomputeAll = this.#computedWith !== undefined && this.#computedWith !== clock;
    const armed: Schedule[] = [];
    for (const schedule of this.#schedules.values()) {
      if (recomputeAll || !(schedule.nextRun > now)) schedule.nextRun = this.#computeNextRun(schedule, now);
      if (Number.isFinite(schedule.nextRun)) armed.push(schedule);
    }
    this.#queue.rebuild(armed);
    this.#arm();
  }

  /** Clears the timer; schedules stay registered and run again after `start()`. Runs in flight go on. */
  stop(): void {
    this.#started = false;
    this.#queue.clear();
    this.#clearTimer();
  }

  getScheduledTasks(): IScheduledTaskInfo[] {
    const infos: IScheduledTaskInfo[] = [];
    for (const schedule of this.#schedules.values()) {
      const info: IScheduledTaskInfo = {
        name: schedule.taskName,
        schedule: schedule.expression,
        timezone: schedule.timezone,
      };
      const nextRun = this.#currentNextRun(schedule);
      if (Number.isFinite(nextRun)) info.nextRun = new Date(nextRun);
      if (schedule.state.lastRun !== undefined) info.lastRun = new Date(schedule.state.lastRun);
      infos.push(info);
    }
    return infos;
  }

  /** The next run of each schedule, soonest first, at most `limit` of them. */
  getNextScheduledRuns(limit: number): IScheduledRun[] {
    if (!(Number.isInteger(limit) && limit >= 0) && limit !== Infinity) {
      invalidOption('limit', 'a non-negative integer or Infinity', limit);
    }
    const runs: { schedule: Schedule; time: number }[] = [];
    for (const schedule of this.#schedules.values()) {
      const time = this.#currentNextRun(schedule);
      if (Number.isFinite(time)) runs.push({ schedule, time });
    }
    runs.sort((a, b) => a.time - b.time || a.schedule.sequence - b.schedule.sequence);
    return runs.slice(0, limit).map(({ schedule, time }) => ({
      taskName: schedule.taskName,
      nextRun: new Date(time),
      schedule: schedule.expression,
    }));
  }

  getSchedule(taskName: string): { expression: string; nextRun?: Date } | undefined {
    const schedule = this.#schedules.get(taskName);
    if (schedule === undefined) return undefined;
    const nextRun = this.#currentNextRun(schedule);
    return Number.isFinite(nextRun)
      ? { expression: schedule.expression, nextRun: new Date(nextRun) }
      : { expression: schedule.expression };
  }

  // -------------------------------------------------------------------------
  // Beyond the port
  // -------------------------------------------------------------------------

  /**
   * The next `count` run times of `expression`, strictly after `from`, with
   * the same time-zone and daylight-saving rules as scheduled runs.
   * @example scheduler.nextRuns('0 2 * * *', 3, { timezone: 'Europe/Berlin' })
   */
  nextRuns(expression: string, count: number, options: NextRunsOptions = {}): Date[] {
    if (typeof expression !== 'string') {
      invalidOption('expression', 'a cron expression string such as "*/5 * * * *"', expression);
    }
    if (!Number.isInteger(count) || count < 0) invalidOption('count', 'a non-negative integer', count);
    if (typeof options !== 'object' || options === null) invalidOption('options', 'an object', options);
    const zone = options.timezone === undefined ? this.#zone : resolveZone('timezone', options.timezone);
    const { from } = options;
    let time: number;
    if (from === undefined) time = this.#clock().now();
    else if (from instanceof Date && !Number.isNaN(from.getTime())) time = from.getTime();
    else if (typeof from === 'number' && Number.isFinite(from)) time = from;
    else if (from instanceof Date) throw new TypeError(`Expected \`from\` to be ${VALID_FROM}, got an Invalid Date`);
    else return invalidOption('from', VALID_FROM, from);
    const pattern = CronPattern.parse(expression);
    const runs: Date[] = [];
    while (runs.length < count) {
      const next = pattern.nextAfter(time, zone);
      if (next === undefined) break;
      runs.push(new Date(next));
      time = next;
    }
    return runs;
  }

  // -------------------------------------------------------------------------
  // Timer
  // -------------------------------------------------------------------------

  #clock(): SchedulerClock {
    return this.#ownClock ?? this.#host?.clock ?? systemClock;
  }

  #monotonicNow(clock: SchedulerClock): number | undefined {
    if (typeof clock.monotonicNow === 'function') return clock.monotonicNow();
    if (clock === systemClock) return performance.now();
    return undefined;
  }

  #computeNextRun(schedule: Schedule, now: number): number {
    this.#computedWith = this.#clock();
    const from = Math.max(now, schedule.state.lastTick);
    return schedule.pattern.nextAfter(from, schedule.zone) ?? Infinity;
  }

  /** The next run as it stands; while stopped, a time already past is recomputed. */
  #currentNextRun(schedule: Schedule): number {
    if (!this.#started) {
      const now = this.#clock().now();
      if (!(schedule.nextRun > now)) schedule.nextRun = this.#computeNextRun(schedule, now);
    }
    return schedule.nextRun;
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) {
      this.#clock().clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#timerTarget = Number.NaN;
  }

  #arm(): void {
    const target = this.#started ? this.#queue.nextTime() : undefined;
    if (target === undefined) {
      this.#clearTimer();
      return;
    }
    if (this.#timer !== undefined && this.#timerTarget === target) return;
    this.#clearTimer();
    const clock = this.#clock();
    const now = clock.now();
    let delay = Math.min(Math.max(target - now, 0), MAX_TIMER_DELAY);
    // A long sleep may end several ms late on a host that parks idle CPUs; wake a little
    // early and wait the last stretch with a short timer, which ends on time.
    this.#early = this.#earlyWakeMs > 0 && delay > 2 * this.#earlyWakeMs;
    if (this.#early) delay -= this.#earlyWakeMs;
    this.#armedAtWall = now;
    this.#armedAtMonotonic = this.#monotonicNow(clock);
    this.#timerTarget = target;
    this.#timer = clock.setTimeout(() => this.#onTimer(), delay, { unref: !this.#keepAlive });
  }

  #onTimer(): void {
    const target = this.#timerTarget;
    this.#timer = undefined;
    this.#timerTarget = Number.NaN;
    if (!this.#started) return;
    const clock = this.#clock();
    const now = clock.now();
    if (this.#early && now < target) {
      this.#early = false;
      const armedAtWall = this.#armedAtWall;
      const armedAtMonotonic = this.#armedAtMonotonic;
      this.#arm();
      // Clock-jump detection measures from the original arming.
      this.#armedAtWall = armedAtWall;
      this.#armedAtMonotonic = armedAtMonotonic;
      return;
    }
    // The wall clock ran ahead of process time: the process was suspended or the clock was set forward.
    let jumped = false;
    const monotonic = this.#monotonicNow(clock);
    if (monotonic !== undefined && this.#armedAtMonotonic !== undefined) {
      jumped = now - (this.#armedAtWall + (monotonic - this.#armedAtMonotonic)) > JUMP_TOLERANCE;
    }
    const due = this.#queue.takeDue(now);
    const memo: NextRunMemo = { pattern: undefined, zone: undefined, after: Number.NaN, next: undefined };
    for (const schedule of due) this.#fire(schedule, now, jumped, memo);
    for (const schedule of due) {
      if (
        this.#started &&
        this.#schedules.get(schedule.taskName) === schedule &&
        schedule.queueIndex === -1 &&
        Number.isFinite(schedule.nextRun)
      ) {
        this.#queue.add(schedule);
      }
    }
    this.#arm();
  }

  /**
   * Handles every due tick of one schedule: at most one run, the rest reported.
   * A late timer runs the latest due tick; after a jump of the wall clock the
   * due ticks were missed entirely and run only with `catchUp: 'last'`.
   */
  #fire(schedule: Schedule, now: number, jumped: boolean, memo: NextRunMemo): void {
    const { pattern, zone, state } = schedule;
    const first = schedule.nextRun;
    // Schedules due together often share an expression: compute their next run once.
    let next: number | undefined;
    if (memo.pattern === pattern && memo.zone === zone && memo.after === first) next = memo.next;
    else {
      next = pattern.nextAfter(first, zone);
      memo.pattern = pattern;
      memo.zone = zone;
      memo.after = first;
      memo.next = next;
    }
    if (next === undefined || next > now) {
      // The common case: one due tick.
      schedule.nextRun = next ?? Infinity;
      if (first > state.lastTick) state.lastTick = first;
      if (jumped && schedule.catchUp === 'none') {
        this.#host!.reportSkippedTick(schedule.taskName, { scheduledTime: first }, REASON_JUMPED);
      } else {
        this.#run(schedule, first);
      }
      return;
    }
    const ticks: number[] = [first];
    let uncounted = false;
    while (next !== undefined && next <= now) {
      if (ticks.length >= MAX_DUE_TICKS) {
        ticks.push(latestAtOrBefore(pattern, zone, now, ticks[ticks.length - 1]!));
        uncounted = true;
        next = pattern.nextAfter(now, zone);
        break;
      }
      ticks.push(next);
      next = pattern.nextAfter(next, zone);
    }
    schedule.nextRun = next ?? Infinity;
    state.lastTick = Math.max(state.lastTick, ticks[ticks.length - 1]!);

    const runIndex = jumped && schedule.catchUp === 'none' ? -1 : ticks.length - 1;
    const host = this.#host!;
    const skipped = ticks.filter((_, index) => index !== runIndex);
    const individually = skipped.length <= MAX_REPORTED_TICKS ? skipped.length : MAX_REPORTED_TICKS - 1;
    const reason = jumped ? REASON_JUMPED : REASON_BLOCKED;
    for (let index = 0; index < individually; index++) {
      const tick = skipped[index]!;
      host.reportSkippedTick(schedule.taskName, { scheduledTime: tick }, reason);
    }
    if (individually < skipped.length) {
      const tick = skipped[skipped.length - 1]!;
      const others = skipped.length - individually - 1;
      host.reportSkippedTick(
        schedule.taskName,
        { scheduledTime: tick },
        `${reason} (and ${uncounted ? 'more than ' : ''}${others} earlier missed ticks, not reported one by one)`,
      );
    }
    if (runIndex !== -1) this.#run(schedule, ticks[runIndex]!);
  }

  #run(schedule: Schedule, tick: number): void {
    const state = schedule.state;
    const host = this.#host!;
    if (schedule.overlap === 'skip' && state.running > 0) {
      host.reportSkippedTick(schedule.taskName, { scheduledTime: tick }, REASON_OVERLAP);
      return;
    }
    state.running++;
    state.lastRun = tick;
    // 'running' until the host defers the tick, 'pending' until it begins, then 'running' again.
    let phase: 'running' | 'pending' | 'skipped' = 'running';
    const control: ScheduledRunControl = {
      defer: () => {
        if (phase !== 'running') return;
        phase = 'pending';
        state.running--;
        state.pending++;
      },
      begin: () => {
        if (phase !== 'pending') return phase === 'running';
        state.pending--;
        if (schedule.overlap === 'skip' && state.running > 0) {
          phase = 'skipped';
          host.reportSkippedTick(schedule.taskName, { scheduledTime: tick }, REASON_OVERLAP);
          return false;
        }
        phase = 'running';
        state.running++;
        return true;
      },
    };
    const done = (): void => {
      if (phase === 'running') state.running--;
      else if (phase === 'pending') state.pending--;
      phase = 'skipped';
      if (state.running === 0 && state.pending === 0 && !this.#schedules.has(schedule.taskName)) {
        if (this.#states.get(schedule.taskName) === state) this.#states.delete(schedule.taskName);
      }
    };
    let result: Promise<void>;
    try {
      result = host.runScheduledTask(schedule.taskName, { scheduledTime: tick }, control);
    } catch {
      // A host whose runScheduledTask throws instead of settling still frees the overlap slot.
      done();
      return;
    }
    Promise.resolve(result).then(done, done);
  }
}

/** The latest tick in `(floor, time]`, found by looking back from `time` in growing windows. */
function latestAtOrBefore(pattern: CronPattern, zone: TimeZone, time: number, floor: number): number {
  for (let window = 1000; ; window *= 2) {
    const from = Math.max(time - window, floor);
    let tick = pattern.nextAfter(from, zone);
    if (tick !== undefined && tick <= time) {
      for (let next = pattern.nextAfter(tick, zone); next !== undefined && next <= time; ) {
        tick = next;
        next = pattern.nextAfter(tick, zone);
      }
      return tick;
    }
    if (from === floor) return floor;
  }
}
