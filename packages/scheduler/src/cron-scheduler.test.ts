import type { ScheduledRunControl, SchedulerHost, ScheduledTick } from '@taskbuffer/core';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../test/manual-clock.js';
import { CronScheduler } from './cron-scheduler.js';
import { InvalidCronExpressionError } from './errors.js';

interface RecordedRun {
  taskName: string;
  scheduledTime: number;
  finish: () => void;
}

/** A host that records what the scheduler asks of it; runs end when the test says so (or at once). */
function createHost(clock: ManualClock, options: { holdRuns?: boolean } = {}) {
  const runs: RecordedRun[] = [];
  const skipped: { taskName: string; scheduledTime: number; reason: string }[] = [];
  const host: SchedulerHost = {
    clock,
    runScheduledTask(taskName: string, tick: ScheduledTick): Promise<void> {
      return new Promise<void>((resolve) => {
        runs.push({ taskName, scheduledTime: tick.scheduledTime, finish: resolve });
        if (!options.holdRuns) resolve();
      });
    },
    reportSkippedTick(taskName, tick, reason) {
      skipped.push({ taskName, scheduledTime: tick.scheduledTime, reason });
    },
  };
  return { host, runs, skipped };
}

const at = (iso: string) => Date.parse(iso);
const iso = (time: number) => new Date(time).toISOString();
/** Lets promise callbacks (run completions) happen. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('CronScheduler', () => {
  describe('constructor', () => {
    it('defaults to the process time zone, as classic cron', async () => {
      expect(new CronScheduler().timezone).toBe(new Intl.DateTimeFormat().resolvedOptions().timeZone);
      expect(new CronScheduler({ timezone: 'Asia/Tokyo' }).timezone).toBe('Asia/Tokyo');
    });

    it('refuses bad options with a TypeError naming the option', async () => {
      expect(() => new CronScheduler(null as never)).toThrow('Expected `options` to be an object, got `null`');
      expect(() => new CronScheduler({ timezone: 'Mars/Olympus' })).toThrow(
        'Expected `timezone` to be a time zone known to Intl, such as "Europe/Berlin", got `"Mars/Olympus"` (string)',
      );
      expect(() => new CronScheduler({ timezone: 42 as never })).toThrow(TypeError);
      expect(() => new CronScheduler({ overlap: 'queue' as never })).toThrow(
        'Expected `overlap` to be "skip" or "allow", got `"queue"` (string)',
      );
      expect(() => new CronScheduler({ catchUp: 'all' as never })).toThrow(
        'Expected `catchUp` to be "none" or "last", got `"all"` (string)',
      );
      expect(() => new CronScheduler({ clock: {} as never })).toThrow(/Expected `clock` to be an object with now\(\)/);
    });
  });

  describe('schedule', () => {
    it('fails at schedule time for an invalid expression, an unknown zone or a bad option', async () => {
      const scheduler = new CronScheduler({ timezone: 'UTC', clock: new ManualClock('2026-01-01T00:00:00Z') });
      expect(() => scheduler.schedule('a', '99 * * * *')).toThrow(InvalidCronExpressionError);
      expect(() => scheduler.schedule('a', '99 * * * *')).toThrow(/"99 \* \* \* \*".*minute field/);
      expect(() => scheduler.schedule('a', '* * * * *', { timezone: 'Nowhere/Land' })).toThrow(/"Nowhere\/Land"/);
      expect(() => scheduler.schedule('a', '* * * * *', { overlap: 'never' as never })).toThrow(/`overlap`/);
      expect(() => scheduler.schedule('', '* * * * *')).toThrow(/`taskName`/);
      expect(() => scheduler.schedule('a', undefined as never)).toThrow(/`expression`/);
      expect(scheduler.getScheduledTasks()).toEqual([]);
    });

    it('registers before start without arming a timer, and reports the next run', async () => {
      const clock = new ManualClock('2026-01-01T10:00:00.500Z');
      const scheduler = new CronScheduler({ timezone: 'Europe/Berlin', clock });
      scheduler.schedule('report', '0 12 * * *');
      scheduler.schedule('tokyo', '0 12 * * *', { timezone: 'Asia/Tokyo' });
      expect(clock.pending).toHaveLength(0);
      expect(scheduler.getSchedule('report')).toEqual({
        expression: '0 12 * * *',
        nextRun: new Date('2026-01-01T11:00:00Z'),
      });
      expect(scheduler.getScheduledTasks()).toEqual([
        { name: 'report', schedule: '0 12 * * *', timezone: 'Europe/Berlin', nextRun: new Date('2026-01-01T11:00:00Z') },
        { name: 'tokyo', schedule: '0 12 * * *', timezone: 'Asia/Tokyo', nextRun: new Date('2026-01-02T03:00:00Z') },
      ]);
      expect(scheduler.getSchedule('missing')).toBeUndefined();
    });

    it('replaces an existing schedule of the same task', async () => {
      const clock = new ManualClock('2026-01-01T10:00:00Z');
      const scheduler = new CronScheduler({ timezone: 'UTC', clock });
      const { host, runs } = createHost(clock);
      scheduler.schedule('a', '*/10 * * * * *');
      scheduler.start(host);
      scheduler.schedule('a', '*/3 * * * * *');
      await clock.advance(10_000);
      expect(runs.map((run) => iso(run.scheduledTime))).toEqual([
        '2026-01-01T10:00:03.000Z',
        '2026-01-01T10:00:06.000Z',
        '2026-01-01T10:00:09.000Z',
      ]);
      expect(scheduler.getScheduledTasks()).toHaveLength(1);
    });
  });

  describe('start', () => {
    it('runs every tick once with its exact scheduled time, on the second', async () => {
      const clock = new ManualClock('2026-01-01T10:00:00.400Z');
      const scheduler = new CronScheduler({ timezone: 'UTC', clock });
      const { host, runs, skipped } = createHost(clock);
      scheduler.schedule('even', '*/2 * * * * *');
      scheduler.schedule('minute', '* * * * *');
      scheduler.start(host);
      await clock.advance(60_000);
      const even = runs.filter((run) => run.taskName === 'even').map((run) => run.scheduledTime);
      expect(even).toHaveLength(30);
      expect(iso(even[0]!)).toBe('2026-01-01T10:00:02.000Z');
      expect(even.every((time, index) => index === 0 || time - even[index - 1]! === 2000)).toBe(true);
      expect(runs.filter((run) => run.taskName === 'minute').map((run) => iso(run.scheduledTime))).toEqual([
        '2026-01-01T10:01:00.000Z',
      ]);
      expect(skipped).toEqual([]);
    });

    it('keeps one timer for all schedules, unref\'d with keepAlive: false', async () => {
      const clock = new ManualClock('2026-01-01T10:00:00Z');
      const scheduler = new CronScheduler({ timezone: 'UTC', clock, keepAlive: false });
      for (let index = 0; index < 200; index++) scheduler.schedule(`task-${index}`, `${index % 60} ${index % 24} * * *`);
      scheduler.start(createHost(clock).host);
      expect(clock.pending).toHaveLength(1);
      expect(clock.pending[0]!.unref).toBe(true);
      scheduler.schedule('soon', '* * * * * *');
      expect(clock.pending).toHaveLength(1);
      expect(clock.pending[0]!.at).toBe(1000);
    });

    it('re-arms from the wall clock, so a late wake-up does not shift later ticks', async () => {
      const clock = new ManualClock('2026-01-01T10:00:00Z');
      const scheduler = new CronScheduler({ timezone: 'UTC', clock });
      const { host, runs } = createHost(clock);
      scheduler.schedule('a', '* * * * * *');
      scheduler.start(host);
      await clock.advance(1000);
      clock.block(300);
      await clock.advance(0);
      expect(runs.map((run) => iso(run.scheduledTime))).toEqual(['2026-01-01T10:00:01.000Z']);
      await clock.advance(700);
      expect(runs.map((run) => iso(run.scheduledTime))).toEqual([
        '2026-01-01T10:00:01.000Z',
        '2026-01-01T10:00:02.000Z',
      ]);
      expect(clock.delays.slice(0, 3)).toEqual([1000, 1000, 1000]);
    });

    it('keeps the process alive while started by default', () => {
      const clock = new ManualClock('2026-01-01T10:00:00Z');
      const scheduler = new CronScheduler({ timezone: 'UTC', clock });
      scheduler.schedule('a', '* * * * * *');
      scheduler.start(createHost(clock).host);
      expect(clock.pending.map((timer) => timer.unref)).toEqual([false]);
      scheduler.stop();
      expect(clock.pending).toEqual([]);
    });

    it('with earlyWakeMs ends a long wait early and waits the rest with a short timer', async () => {
      const clock = new ManualClock('2026-01-01T10:00:00Z');
      const scheduler = new CronScheduler({ timezone: 'UTC', clock, earlyWakeMs: 20 });
      const { host, runs } = createHost(clock);
      scheduler.schedule('a', '* * * * * *');
      scheduler.start(host);
      await clock.advance(980);
      expect(runs).toHaveLength(0);
      await clock.advance(20);
      expect(runs.map((run) => iso(run.scheduledTime))).toEqual(['2026-01-01T10:00:01.000Z']);
      await clock.advance(1000);
      expect(runs.map((run) => iso(run.scheduledTime))).toEqual([
        '2026-01-01T10:00:01.000Z',
        '2026-01-01T10:00:02.000Z',
      ]);
      expect(clock.delays.slice(0, 4)).toEqual([980, 20, 980, 20]);
      expect(clock.pending).toHaveLength(1);
    });

    it('with earlyWakeMs still reports ticks missed in a jump during the long wait', async () => {
      const clock = new ManualClock('2026-01-01T10:00:30Z');
      const scheduler = new CronScheduler({ timezone: 'UTC', clock, earlyWakeMs: 20 });
      const { host, runs, skipped } = createHost(clock);
      scheduler.schedule('a', '* * * * *');
      scheduler.start(host);
      clock.jump(600_000);
      await clock.advance(29_980);
      expect(runs).toHaveLength(0);
      expect(skipped.map((event) => iso(event.scheduledTime))[0]).toBe('2026-01-01T10:01:00.000Z');
      expect(skipped).toHaveLength(10);
    });

    it('refuses a bad earlyWakeMs', () => {
      expect(() => new CronScheduler({ earlyWakeMs: -1 })).toThrow(
        'Expected `earlyWakeMs` to be a non-negative finite number of milliseconds, got `-1` (number)',
      );
    });

    it('clamps waits beyond the setTimeout limit and re-arms until the tick', async () => {
      const clock = new ManualClock('2026-03-01T00:00:00Z');
      const scheduler = new CronScheduler({ timezone: 'UTC', clock });
      const { host, runs } = createHost(clock);
      scheduler.schedule('leap', '0 0 29 2 *');
      scheduler.start(host);
      expect(clock.delays).toEqual([2 ** 31 - 1]);
      await clock.advance(2 ** 31 - 1);
      expect(runs).toHaveLength(0);
      expect(clock.pending).toHaveLength(1);
      await clock.advance(at('2028-02-29T00:00:00Z') - clock.wall - 1);
      expect(runs).toHaveLength(0);
      await clock.advance(1);
      expect(runs.map((run) => iso(run.scheduledTime))).toEqual(['2028-02-29T00:00:00.000Z']);
      expect(clock.delays.every((delay) => delay <= 2 ** 31 - 1)).toBe(true);
      expect(clock.delays.length).toBeGreaterThan(20);
    });

    it("uses the manager's clock for schedules registered before start", async () => {
      const clock = new ManualClock('2020-06-01T12:00:00Z');
      const scheduler = new CronScheduler({ timezone: 'UTC' });
      scheduler.schedule('a', '* * * * * *');
      const { host, runs } = createHost(clock);
      scheduler.start(host);
      await clock.advance(1000);
      expect(runs.map((run) => iso(run.scheduledTime))).toEqual(['2020-06-01T12:00:01.000Z']);
      expect(scheduler.getSchedule('a')?.nextRun).toEqual(new Date('2020-06-01T12:00:02Z'));
    });
  });

  describe('stop', () => {
    it('clears the timer and resumes on start without running handled ticks again', async () => {
      const clock = new ManualClock('2026-01-01T10:00:00Z');
      const scheduler = new CronScheduler({ timezone: 'UTC', clock });
      const { host, runs, skipped } = createHost(clock);
      scheduler.schedule('a', '* * * * * *');
      scheduler.start(host);
      await clock.advance(2000);
      scheduler.stop();
      expect(scheduler.started).toBe(false);
      expect(clock.pending).toHaveLength(0);
      await clock.advance(5000);
      expect(runs).toHaveLength(2);
      // Ticks while stopped are neither run nor reported.
      scheduler.start(host);
      await clock.advance(1000);
      expect(runs.map((run) => iso(run.scheduledTime))).toEqual([
        '2026-01-01T10:00:01.000Z',
        '2026-01-01T10:00:02.000Z',
        '2026-01-01T10:00:08.000Z',
      ]);
      expect(skipped).toEqual([]);
    });
  });

  describe('unschedule', () => {
    it('removes a schedule and its timer', async () => {
      const clock = new ManualClock('2026-01-01T10:00:00Z');
      const scheduler = new CronScheduler({ timezone: 'UTC', clock });
      const { host, runs } = createHost(clock);
      scheduler.schedule('a', '* * * * * *');
      scheduler.schedule('b', '0 * * * *');
      scheduler.start(host);
      expect(scheduler.unschedule('a')).toBe(true);
      expect(scheduler.unschedule('a')).toBe(false);
      expect(clock.pending).toHaveLength(1);
      expect(clock.pending[0]!.at).toBe(3_600_000);
      await clock.advance(10_000);
      expect(runs).toHaveLength(0);
      scheduler.unschedule('b');
      expect(clock.pending).toHaveLength(0);
    });
  });

  describe('getNextScheduledRuns', () => {
    it('lists the next run of each schedule, soonest first', async () => {
      const clock = new ManualClock('2026-01-01T10:00:00Z');
      const scheduler = new CronScheduler({ timezone: 'UTC', clock });
      scheduler.schedule('hourly', '0 * * * *');
      scheduler.schedule('minutely', '* * * * *');
      scheduler.schedule('daily', '0 0 * * *');
      expect(scheduler.getNextScheduledRuns(2)).toEqual([
        { taskName: 'minutely', nextRun: new Date('2026-01-01T10:01:00Z'), schedule: '* * * * *' },
        { taskName: 'hourly', nextRun: new Date('2026-01-01T11:00:00Z'), schedule: '0 * * * *' },
      ]);
      expect(scheduler.getNextScheduledRuns(10).map((run) => run.taskName)).toEqual(['minutely', 'hourly', 'daily']);
      expect(scheduler.getNextScheduledRuns(0)).toEqual([]);
      expect(() => scheduler.getNextScheduledRuns(-1)).toThrow(/`limit`/);
    });

    it('moves on while stopped instead of reporting a time already past', async () => {
      const clock = new ManualClock('2026-01-01T10:00:00Z');
      const scheduler = new CronScheduler({ timezone: 'UTC', clock });
      scheduler.schedule('minutely', '* * * * *');
      await clock.advance(90_000);
      expect(scheduler.getNextScheduledRuns(1)[0]!.nextRun).toEqual(new Date('2026-01-01T10:02:00Z'));
    });
  });

  describe('late and missed ticks', () => {
    it('runs a tick that fires late because the event loop was blocked, once', async () => {
      const clock = new ManualClock('2026-01-01T01:59:00Z');
      const scheduler = new CronScheduler({ timezone: 'UTC', clock });
      const { host, runs, skipped } = createHost(clock);
      scheduler.schedule('nightly', '0 2 * * *');
      scheduler.start(host);
      await clock.advance(59_000);
      clock.block(4000);
      await clock.advance(0);
      expect(runs.map((run) => iso(run.scheduledTime))).toEqual(['2026-01-01T02:00:00.000Z']);
      await clock.advance(60_000);
      expect(runs).toHaveLength(1);
      expect(skipped).toEqual([]);
    });

    it('runs only the latest tick when the loop was blocked past several, and reports the others', async () => {
      const clock = new ManualClock('2026-01-01T10:00:00Z');
      const scheduler = new CronScheduler({ timezone: 'UTC', clock });
      const { host, runs, skipped } = createHost(clock);
      scheduler.schedule('a', '* * * * * *');
      scheduler.start(host);
      clock.block(3500);
      await clock.advance(0);
      expect(runs.map((run) => iso(run.scheduledTime))).toEqual(['2026-01-01T10:00:03.000Z']);
      expect(skipped.map((event) => iso(event.scheduledTime))).toEqual([
        '2026-01-01T10:00:01.000Z',
        '2026-01-01T10:00:02.000Z',
      ]);
      expect(skipped[0]!.reason).toMatch(/^missed: the event loop was blocked/);
      await clock.advance(500);
      expect(runs.at(-1)!.scheduledTime).toBe(at('2026-01-01T10:00:04Z'));
    });

    it('does not run ticks missed in a suspend or a forward clock jump, and reports them', async () => {
      const clock = new ManualClock('2026-01-01T10:00:30Z');
      const scheduler = new CronScheduler({ timezone: 'UTC', clock });
      const { host, runs, skipped } = createHost(clock);
      scheduler.schedule('a', '* * * * *');
      scheduler.start(host);
      clock.jump(3_600_000);
      await clock.advance(30_000);
      expect(runs).toHaveLength(0);
      expect(skipped).toHaveLength(61);
      expect(iso(skipped[0]!.scheduledTime)).toBe('2026-01-01T10:01:00.000Z');
      expect(iso(skipped.at(-1)!.scheduledTime)).toBe('2026-01-01T11:01:00.000Z');
      expect(skipped.every((event) => event.reason === 'missed: the process was suspended or the clock jumped forward')).toBe(
        true,
      );
      await clock.advance(60_000);
      expect(runs.map((run) => iso(run.scheduledTime))).toEqual(['2026-01-01T11:02:00.000Z']);
    });

    it("with catchUp: 'last' runs the latest missed tick once", async () => {
      const clock = new ManualClock('2026-01-01T10:00:30Z');
      const scheduler = new CronScheduler({ timezone: 'UTC', clock, catchUp: 'last' });
      const { host, runs, skipped } = createHost(clock);
      scheduler.schedule('a', '* * * * *');
      scheduler.schedule('b', '* * * * *', { catchUp: 'none' });
      scheduler.start(host);
      clock.jump(3_600_000);
      await clock.advance(30_000);
      expect(runs.map((run) => `${run.taskName} ${iso(run.scheduledTime)}`)).toEqual(['a 2026-01-01T11:01:00.000Z']);
      expect(skipped.filter((event) => event.taskName === 'a')).toHaveLength(60);
      expect(skipped.filter((event) => event.taskName === 'b')).toHaveLength(61);
    });

    it('sums up a flood of missed ticks instead of reporting each', async () => {
      const clock = new ManualClock('2026-01-01T10:00:00Z');
      const scheduler = new CronScheduler({ timezone: 'UTC', clock });
      const { host, runs, skipped } = createHost(clock);
      scheduler.schedule('a', '* * * * * *');
      scheduler.start(host);
      clock.jump(86_400_000);
      await clock.advance(1000);
      expect(runs).toHaveLength(0);
      expect(skipped).toHaveLength(100);
      expect(iso(skipped.at(-1)!.scheduledTime)).toBe('2026-01-02T10:00:01.000Z');
      expect(skipped.at(-1)!.reason).toMatch(/\(and more than \d+ earlier missed ticks, not reported one by one\)$/);
      await clock.advance(1000);
      expect(runs.map((run) => iso(run.scheduledTime))).toEqual(['2026-01-02T10:00:02.000Z']);
    });

    it('never runs a tick twice when the clock jumps backward', async () => {
      const clock = new ManualClock('2026-01-01T10:00:00Z');
      const scheduler = new CronScheduler({ timezone: 'UTC', clock });
      const { host, runs, skipped } = createHost(clock);
      scheduler.schedule('a', '* * * * * *');
      scheduler.schedule('b', '*/5 * * * * *');
      scheduler.start(host);
      await clock.advance(5000);
      clock.jump(-30_000);
      // Replacing a schedule after the jump must not bring old ticks back either.
      scheduler.schedule('b', '*/5 * * * * *');
      await clock.advance(40_000);
      for (const name of ['a', 'b']) {
        const times = runs.filter((run) => run.taskName === name).map((run) => run.scheduledTime);
        expect(new Set(times).size).toBe(times.length);
        expect(times.every((time, index) => index === 0 || time > times[index - 1]!)).toBe(true);
      }
      expect(runs.filter((run) => run.taskName === 'a').map((run) => iso(run.scheduledTime))).toEqual([
        '2026-01-01T10:00:01.000Z',
        '2026-01-01T10:00:02.000Z',
        '2026-01-01T10:00:03.000Z',
        '2026-01-01T10:00:04.000Z',
        '2026-01-01T10:00:05.000Z',
        '2026-01-01T10:00:06.000Z',
        '2026-01-01T10:00:07.000Z',
        '2026-01-01T10:00:08.000Z',
        '2026-01-01T10:00:09.000Z',
        '2026-01-01T10:00:10.000Z',
        '2026-01-01T10:00:11.000Z',
        '2026-01-01T10:00:12.000Z',
        '2026-01-01T10:00:13.000Z',
        '2026-01-01T10:00:14.000Z',
        '2026-01-01T10:00:15.000Z',
      ]);
      expect(skipped).toEqual([]);
    });
  });

  describe('overlap', () => {
    it('skips and reports a tick while the previous run of the task is still running', async () => {
      const clock = new ManualClock('2026-01-01T10:00:00Z');
      const scheduler = new CronScheduler({ timezone: 'UTC', clock });
      const { host, runs, skipped } = createHost(clock, { holdRuns: true });
      scheduler.schedule('slow', '* * * * * *');
      scheduler.start(host);
      await clock.advance(3000);
      expect(runs.map((run) => iso(run.scheduledTime))).toEqual(['2026-01-01T10:00:01.000Z']);
      expect(skipped).toEqual([
        { taskName: 'slow', scheduledTime: at('2026-01-01T10:00:02Z'), reason: 'overlap: the previous run is still running' },
        { taskName: 'slow', scheduledTime: at('2026-01-01T10:00:03Z'), reason: 'overlap: the previous run is still running' },
      ]);
      runs[0]!.finish();
      await flush();
      await clock.advance(1000);
      expect(runs.map((run) => iso(run.scheduledTime))).toEqual([
        '2026-01-01T10:00:01.000Z',
        '2026-01-01T10:00:04.000Z',
      ]);
      expect(scheduler.getScheduledTasks()[0]!.lastRun).toEqual(new Date('2026-01-01T10:00:04Z'));
    });

    it('does not count a tick whose host is still waiting for a claim as a running one', async () => {
      const clock = new ManualClock('2026-01-01T10:00:00Z');
      const scheduler = new CronScheduler({ timezone: 'UTC', clock });
      const skipped: { scheduledTime: number; reason: string }[] = [];
      const claims: { scheduledTime: number; control: ScheduledRunControl; finish: () => void }[] = [];
      const host: SchedulerHost = {
        clock,
        runScheduledTask(_taskName, tick, control) {
          // Like a manager with a distributed coordinator: the claim waits for an answer first.
          control!.defer();
          return new Promise<void>((resolve) => claims.push({ scheduledTime: tick.scheduledTime, control: control!, finish: resolve }));
        },
        reportSkippedTick(_taskName, tick, reason) {
          skipped.push({ scheduledTime: tick.scheduledTime, reason });
        },
      };
      scheduler.schedule('claimed', '* * * * * *');
      scheduler.start(host);
      await clock.advance(3000);
      // Three claims waiting at once, none reported as an overlap.
      expect(claims.map((claim) => iso(claim.scheduledTime))).toEqual([
        '2026-01-01T10:00:01.000Z',
        '2026-01-01T10:00:02.000Z',
        '2026-01-01T10:00:03.000Z',
      ]);
      expect(skipped).toEqual([]);
      // The first claim is granted and its run starts; a second grant while it runs is an overlap.
      expect(claims[0]!.control.begin()).toBe(true);
      expect(claims[1]!.control.begin()).toBe(false);
      expect(skipped).toEqual([
        { scheduledTime: at('2026-01-01T10:00:02Z'), reason: 'overlap: the previous run is still running' },
      ]);
      // A real run under way is an overlap for the next tick, as before.
      await clock.advance(1000);
      expect(claims).toHaveLength(3);
      expect(skipped.at(-1)).toEqual({
        scheduledTime: at('2026-01-01T10:00:04Z'),
        reason: 'overlap: the previous run is still running',
      });
      claims[0]!.finish();
      claims[1]!.finish();
      await flush();
      expect(claims[2]!.control.begin()).toBe(true);
      claims[2]!.finish();
      await flush();
      await clock.advance(1000);
      expect(claims.map((claim) => iso(claim.scheduledTime)).at(-1)).toBe('2026-01-01T10:00:05.000Z');
    });

    it("with overlap: 'allow' lets runs of the same task go side by side", async () => {
      const clock = new ManualClock('2026-01-01T10:00:00Z');
      const scheduler = new CronScheduler({ timezone: 'UTC', clock, overlap: 'allow' });
      const { host, runs, skipped } = createHost(clock, { holdRuns: true });
      scheduler.schedule('slow', '* * * * * *');
      scheduler.schedule('guarded', '* * * * * *', { overlap: 'skip' });
      scheduler.start(host);
      await clock.advance(3000);
      expect(runs.filter((run) => run.taskName === 'slow')).toHaveLength(3);
      expect(runs.filter((run) => run.taskName === 'guarded')).toHaveLength(1);
      expect(skipped.filter((event) => event.taskName === 'guarded')).toHaveLength(2);
    });
  });
});
