import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CronScheduler } from './cron-scheduler.js';
import { InvalidCronExpressionError } from './errors.js';

const scheduler = new CronScheduler({ timezone: 'UTC' });
const HOUR = 3_600_000;
const MINUTE = 60_000;

const formats = new Map<string, Intl.DateTimeFormat>();

/** `YYYY-MM-DD HH:MM:SS` in `timezone`. */
function local(date: Date, timezone: string): string {
  let format = formats.get(timezone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('sv-SE', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formats.set(timezone, format);
  }
  return format.format(date);
}

function runs(expression: string, count: number, from: string, timezone = 'UTC'): string[] {
  return scheduler.nextRuns(expression, count, { from: new Date(from), timezone }).map((date) => date.toISOString());
}

function localRuns(expression: string, count: number, from: string, timezone: string): string[] {
  return scheduler.nextRuns(expression, count, { from: new Date(from), timezone }).map((date) => local(date, timezone));
}

describe('CronScheduler', () => {
  describe('nextRuns', () => {
    it('reads 5 fields as minute-based and 6 fields with leading seconds', () => {
      expect(runs('*/20 * * * *', 3, '2026-01-01T10:00:00Z')).toEqual([
        '2026-01-01T10:20:00.000Z',
        '2026-01-01T10:40:00.000Z',
        '2026-01-01T11:00:00.000Z',
      ]);
      expect(runs('*/15 * * * * *', 3, '2026-01-01T10:00:00Z')).toEqual([
        '2026-01-01T10:00:15.000Z',
        '2026-01-01T10:00:30.000Z',
        '2026-01-01T10:00:45.000Z',
      ]);
    });

    it('lists runs strictly after `from`, on whole seconds', () => {
      expect(runs('* * * * * *', 2, '2026-01-01T10:00:00Z')).toEqual([
        '2026-01-01T10:00:01.000Z',
        '2026-01-01T10:00:02.000Z',
      ]);
      expect(runs('* * * * * *', 1, '2026-01-01T10:00:00.300Z')).toEqual(['2026-01-01T10:00:01.000Z']);
    });

    it('supports ranges, steps, lists, and month and day names', () => {
      expect(runs('0 9-17/4 * * MON-FRI', 4, '2026-01-02T12:00:00Z')).toEqual([
        '2026-01-02T13:00:00.000Z',
        '2026-01-02T17:00:00.000Z',
        '2026-01-05T09:00:00.000Z',
        '2026-01-05T13:00:00.000Z',
      ]);
      expect(runs('0 0 1 JAN,jul *', 2, '2026-02-01T00:00:00Z')).toEqual([
        '2026-07-01T00:00:00.000Z',
        '2027-01-01T00:00:00.000Z',
      ]);
      expect(runs('5,10 0 * * *', 2, '2026-01-01T00:00:00Z')).toEqual([
        '2026-01-01T00:05:00.000Z',
        '2026-01-01T00:10:00.000Z',
      ]);
    });

    it('treats 7 as Sunday and matches day-of-month OR day-of-week when both are restricted', () => {
      expect(runs('0 0 * * 7', 1, '2026-01-01T00:00:00Z')).toEqual(['2026-01-04T00:00:00.000Z']);
      // The 13th (Tuesday in January 2026) or any Friday.
      expect(runs('0 0 13 * FRI', 3, '2026-01-08T00:00:00Z')).toEqual([
        '2026-01-09T00:00:00.000Z',
        '2026-01-13T00:00:00.000Z',
        '2026-01-16T00:00:00.000Z',
      ]);
    });

    it('accepts lists whose items overlap, merging the duplicates as Vixie cron and croner do', () => {
      const from = '2026-01-01T00:00:00Z';
      const same: [string, string][] = [
        ['0 0 * * 0,7', '0 0 * * 0'], // Sunday written both ways
        ['0 0-12,3 * * *', '0 0-12 * * *'],
        ['0 0 * * 1-5,3', '0 0 * * 1-5'],
        ['0 0 * * 1,MON', '0 0 * * 1'],
        ['0,0 * * * *', '0 * * * *'],
        ['0 0 1,1-3,*/2 * *', '0 0 1-3,5,7,9,11,13,15,17,19,21,23,25,27,29,31 * *'],
        ['0 0 * * 5L,FRIL,MON#2,1#2', '0 0 * * 5L,MON#2'],
      ];
      for (const [expression, equivalent] of same) {
        expect(runs(expression, 12, from), expression).toEqual(runs(equivalent, 12, from));
      }
      expect(runs('0 0 * * 0,7', 2, from)).toEqual(['2026-01-04T00:00:00.000Z', '2026-01-11T00:00:00.000Z']);
    });

    it('reads #, L and plain weekdays together in one list', () => {
      // The second Monday, the third Wednesday and the last Friday of each month, and every Sunday.
      expect(runs('0 0 * 1 1#2,3#3,5L,SUN', 9, '2026-01-01T00:00:00Z')).toEqual([
        '2026-01-04T00:00:00.000Z',
        '2026-01-11T00:00:00.000Z',
        '2026-01-12T00:00:00.000Z',
        '2026-01-18T00:00:00.000Z',
        '2026-01-21T00:00:00.000Z',
        '2026-01-25T00:00:00.000Z',
        '2026-01-30T00:00:00.000Z',
        '2027-01-03T00:00:00.000Z',
        '2027-01-10T00:00:00.000Z',
      ]);
    });

    it('matches either day field when both are anything but * or ?, also when one starts with * (*/2)', () => {
      // Every odd day of the month or any Monday (Vixie cron would AND them here: odd-numbered Mondays only).
      expect(runs('0 0 */2 * 1', 8, '2026-01-01T00:00:00Z')).toEqual([
        '2026-01-03T00:00:00.000Z', // Saturday, odd
        '2026-01-05T00:00:00.000Z', // Monday, odd
        '2026-01-07T00:00:00.000Z',
        '2026-01-09T00:00:00.000Z',
        '2026-01-11T00:00:00.000Z',
        '2026-01-12T00:00:00.000Z', // Monday, even
        '2026-01-13T00:00:00.000Z',
        '2026-01-15T00:00:00.000Z',
      ]);
      // A day field that is * or ? leaves the other alone: Mondays only.
      expect(runs('0 0 * * 1', 2, '2026-01-01T00:00:00Z')).toEqual(runs('0 0 ? * 1', 2, '2026-01-01T00:00:00Z'));
      expect(runs('0 0 * * 1', 2, '2026-01-01T00:00:00Z')).toEqual([
        '2026-01-05T00:00:00.000Z',
        '2026-01-12T00:00:00.000Z',
      ]);
    });

    it('supports L (last day of the month, last weekday of a kind)', () => {
      expect(runs('0 0 L * *', 3, '2028-01-15T00:00:00Z')).toEqual([
        '2028-01-31T00:00:00.000Z',
        '2028-02-29T00:00:00.000Z',
        '2028-03-31T00:00:00.000Z',
      ]);
      expect(runs('0 0 * * 5L', 2, '2026-01-01T00:00:00Z')).toEqual([
        '2026-01-30T00:00:00.000Z',
        '2026-02-27T00:00:00.000Z',
      ]);
    });

    it('supports W (nearest weekday, within the month) and LW (last weekday)', () => {
      // 2026-02-15 is a Sunday → Monday 16th; 2026-08-15 is a Saturday → Friday 14th.
      expect(runs('0 0 15W * *', 3, '2026-02-01T00:00:00Z')).toEqual([
        '2026-02-16T00:00:00.000Z',
        '2026-03-16T00:00:00.000Z',
        '2026-04-15T00:00:00.000Z',
      ]);
      expect(runs('0 0 15W 8 *', 1, '2026-01-01T00:00:00Z')).toEqual(['2026-08-14T00:00:00.000Z']);
      // 2026-08-01 is a Saturday: 1W does not go back into July, it moves to Monday the 3rd.
      expect(runs('0 0 1W 8 *', 1, '2026-01-01T00:00:00Z')).toEqual(['2026-08-03T00:00:00.000Z']);
      // 2026-05-31 is a Sunday → Friday 29th.
      expect(runs('0 0 LW 5 *', 1, '2026-01-01T00:00:00Z')).toEqual(['2026-05-29T00:00:00.000Z']);
      expect(runs('0 0 1,15W 3 *', 2, '2026-01-01T00:00:00Z')).toEqual([
        '2026-03-01T00:00:00.000Z',
        '2026-03-16T00:00:00.000Z',
      ]);
    });

    it('supports # (nth weekday of the month)', () => {
      expect(runs('0 0 * * MON#2', 3, '2026-01-01T00:00:00Z')).toEqual([
        '2026-01-12T00:00:00.000Z',
        '2026-02-09T00:00:00.000Z',
        '2026-03-09T00:00:00.000Z',
      ]);
      // A fifth Friday exists only in some months.
      expect(runs('0 0 * * 5#5', 2, '2026-01-01T00:00:00Z')).toEqual([
        '2026-01-30T00:00:00.000Z',
        '2026-05-29T00:00:00.000Z',
      ]);
    });

    it('supports the @-macros', () => {
      const from = '2026-01-01T10:30:00Z';
      expect(runs('@hourly', 1, from)).toEqual(['2026-01-01T11:00:00.000Z']);
      expect(runs('@daily', 1, from)).toEqual(['2026-01-02T00:00:00.000Z']);
      expect(runs('@midnight', 1, from)).toEqual(['2026-01-02T00:00:00.000Z']);
      expect(runs('@weekly', 1, from)).toEqual(['2026-01-04T00:00:00.000Z']);
      expect(runs('@monthly', 1, from)).toEqual(['2026-02-01T00:00:00.000Z']);
      expect(runs('@yearly', 1, from)).toEqual(['2027-01-01T00:00:00.000Z']);
      expect(runs('@annually', 1, from)).toEqual(['2027-01-01T00:00:00.000Z']);
      expect(runs('@minutely', 1, from)).toEqual(['2026-01-01T10:31:00.000Z']);
      expect(runs('@secondly', 1, from)).toEqual(['2026-01-01T10:30:01.000Z']);
      expect(runs('@weekdays', 1, '2026-01-02T10:00:00Z')).toEqual(['2026-01-05T00:00:00.000Z']);
      expect(runs('@weekends', 1, '2026-01-01T10:00:00Z')).toEqual(['2026-01-03T00:00:00.000Z']);
    });

    it('finds a leap day years ahead', () => {
      expect(runs('0 0 29 2 *', 2, '2026-03-01T00:00:00Z')).toEqual([
        '2028-02-29T00:00:00.000Z',
        '2032-02-29T00:00:00.000Z',
      ]);
    });

    it('reads the expression in the scheduler time zone unless told otherwise', () => {
      const berlin = new CronScheduler({ timezone: 'Europe/Berlin' });
      const from = new Date('2026-01-01T00:00:00Z');
      expect(berlin.nextRuns('0 9 * * *', 1, { from })[0]!.toISOString()).toBe('2026-01-01T08:00:00.000Z');
      expect(berlin.nextRuns('0 9 * * *', 1, { from, timezone: 'Asia/Tokyo' })[0]!.toISOString()).toBe(
        '2026-01-02T00:00:00.000Z',
      );
      expect(berlin.nextRuns('0 9 * * *', 1, { from: from.getTime(), timezone: 'UTC' })[0]!.toISOString()).toBe(
        '2026-01-01T09:00:00.000Z',
      );
    });

    it('returns an empty list for count 0', () => {
      expect(scheduler.nextRuns('* * * * *', 0)).toEqual([]);
    });

    it('refuses an invalid expression, quoting it and saying what is wrong', () => {
      const cases: [string, RegExp][] = [
        ['61 * * * *', /"61 \* \* \* \*".*minute field \("61"\).*0-59/],
        ['* * 32 * *', /day-of-month field \("32"\)/],
        ['* * * 13 *', /month field \("13"\)/],
        ['* * * * * * *', /expected 5 fields .* or 6 with leading seconds, got 7/],
        ['* *', /got 2/],
        ['', /it is empty/],
        ['@often', /unknown macro; use one of @yearly/],
        ['@reboot', /@reboot is not supported/],
        ['0 0 31 4 *', /never matches a date/],
        ['0 0 30 2 *', /never matches a date/],
        ['0 0 H * *', /hashed values \(H\) are not supported/],
        ['0 0 32W * *', /32W is outside 1-31/],
        ['*/0 * * * *', /minute field/],
        ['0 0 * * MON#6', /day-of-week field/],
      ];
      for (const [expression, message] of cases) {
        let caught: unknown;
        try {
          scheduler.nextRuns(expression, 1);
        } catch (error) {
          caught = error;
        }
        expect(caught, expression).toBeInstanceOf(InvalidCronExpressionError);
        expect((caught as InvalidCronExpressionError).message, expression).toMatch(message);
        expect((caught as InvalidCronExpressionError).expression).toBe(expression);
      }
    });

    it('explains a bad field in its own words, naming the field and what it takes', () => {
      const cases: [string, string][] = [
        [
          '1- * * * *',
          'minute field ("1-"): "1-" is not understood; the minute field takes values 0-59, * for any, ranges (1-5), steps (*/15, 1-30/5, 10/5) and lists of these (1,5)',
        ],
        [
          '0 0 * * L',
          'day-of-week field ("L"): L needs a weekday before it in this field (5L or FRIL: the last Friday of the month)',
        ],
        [
          '0 0 W * *',
          'day-of-month field ("W"): "W" is not understood; the day-of-month field takes values 1-31, L (last day), LW (last weekday), a day with W (15W, the nearest weekday), * or ? for any, ranges (1-5), steps (*/15, 1-30/5, 10/5) and lists of these (1,5)',
        ],
        ['*/0 * * * *', 'minute field ("*/0"): a step of 0 is not allowed; steps in the minute field are 1-59'],
        ['*/60 * * * *', 'minute field ("*/60"): a step of 60 is not allowed; steps in the minute field are 1-59'],
        [
          '*/99999999999999999999 * * * *',
          'minute field ("*/99999999999999999999"): a step of 99999999999999999999 is not allowed; steps in the minute field are 1-59',
        ],
        ['0 */24 * * *', 'hour field ("*/24"): a step of 24 is not allowed; steps in the hour field are 1-23'],
        ['0 0 */31 * *', 'day-of-month field ("*/31"): a step of 31 is not allowed; steps in the day-of-month field are 1-30'],
        ['0 0 1 */12 *', 'month field ("*/12"): a step of 12 is not allowed; steps in the month field are 1-11'],
        ['0 0 * * */7', 'day-of-week field ("*/7"): a step of 7 is not allowed; steps in the day-of-week field are 1-6'],
        ['61 * * * *', 'minute field ("61"): 61 is outside 0-59'],
        ['0 0 * * 8', 'day-of-week field ("8"): 8 is outside 0-7'],
        ['5-2 * * * *', 'minute field ("5-2"): the range 5-2 runs backwards; ranges do not wrap around (write 5-59,0-2)'],
        [
          '0 0 * * FRI-MON',
          'day-of-week field ("FRI-MON"): the range FRI-MON runs backwards; ranges do not wrap around (write FRI-SAT,SUN-MON)',
        ],
        ['1,,2 * * * *', 'minute field ("1,,2"): the list has an empty item'],
        [
          '0 0 * * 5#0',
          'day-of-week field ("5#0"): #0 is not an occurrence: a month has at most 5 of a weekday (#1-#5)',
        ],
        [
          '? * * * *',
          'minute field ("?"): ? stands for any day and is only for the day-of-month and day-of-week fields; use *',
        ],
        ['0 0 * jan,foo *', 'month field ("jan,foo"): "foo" is not understood; the month field takes values 1-12 or JAN-DEC, * for any, ranges (1-5), steps (*/15, 1-30/5, 10/5) and lists of these (1,5)'],
      ];
      for (const [expression, reason] of cases) {
        let caught: unknown;
        try {
          scheduler.nextRuns(expression, 1);
        } catch (error) {
          caught = error;
        }
        expect(caught, expression).toBeInstanceOf(InvalidCronExpressionError);
        expect((caught as InvalidCronExpressionError).reason, expression).toBe(reason);
        expect((caught as InvalidCronExpressionError).message).toBe(`Invalid cron expression "${expression}": ${reason}`);
      }
      // None of these leaks a parser's internal wording.
      for (const expression of ['0 0 L-3 * *', '0 0 1-L * *', '0 0 15L * *', '0 0 * * *L', '*/5/3 * * * *', 'a * * * *']) {
        expect(() => scheduler.nextRuns(expression, 1), expression).toThrow(
          /^Invalid cron expression "[^"]+": \w[\w-]+ field \("[^"]+"\): "[^"]+" is not understood; the [\w-]+ field takes values /,
        );
        expect(() => scheduler.nextRuns(expression, 1), expression).not.toThrow(/NaN|Constraint|Validation|Invalid characters/);
      }
    });

    it('refuses bad arguments with a TypeError naming them', () => {
      expect(() => scheduler.nextRuns(5 as never, 1)).toThrow(/Expected `expression` to be a cron expression/);
      expect(() => scheduler.nextRuns('* * * * *', -1)).toThrow('Expected `count` to be a non-negative integer, got `-1` (number)');
      expect(() => scheduler.nextRuns('* * * * *', 1, { from: new Date('nope') })).toThrow(
        new TypeError('Expected `from` to be a valid Date or epoch milliseconds, got an Invalid Date'),
      );
      expect(() => scheduler.nextRuns('* * * * *', 1, { from: Number.NaN })).toThrow(
        'Expected `from` to be a valid Date or epoch milliseconds, got `NaN` (number)',
      );
      expect(() => scheduler.nextRuns('* * * * *', 1, { timezone: 'Mars/Olympus' })).toThrow(
        'Expected `timezone` to be a time zone known to Intl, such as "Europe/Berlin", got `"Mars/Olympus"` (string)',
      );
    });
  });

  describe('nextRuns far ahead', () => {
    it('finds runs that are decades apart, as far as the calendar goes', () => {
      // A fifth Sunday in February: February 29th on a Sunday (2088 → 2128: 1 Feb 2100 is not a leap day).
      const expected: string[] = [];
      for (let year = 2026; expected.length < 6; year++) {
        const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
        if (leap && new Date(Date.UTC(year, 1, 29)).getUTCDay() === 0) expected.push(`${year}-02-29T00:00:00.000Z`);
      }
      expect(expected.slice(0, 4)).toEqual([
        '2032-02-29T00:00:00.000Z',
        '2060-02-29T00:00:00.000Z',
        '2088-02-29T00:00:00.000Z',
        '2128-02-29T00:00:00.000Z',
      ]);
      expect(runs('0 0 * 2 0#5', 6, '2026-01-01T00:00:00Z')).toEqual(expected);
      expect(localRuns('0 0 * 2 0#5', 4, '2026-01-01T00:00:00Z', 'Europe/Berlin')).toEqual([
        '2032-02-29 00:00:00',
        '2060-02-29 00:00:00',
        '2088-02-29 00:00:00',
        '2128-02-29 00:00:00',
      ]);
    });

    it('lists no run only when none exists: an interval job whose every time falls into a skipped hour', () => {
      // 02:00-02:59 on the last Sunday of March does not exist in Berlin.
      expect(runs('*/30 2 * 3 0L', 1, '2026-01-01T00:00:00Z', 'Europe/Berlin')).toEqual([]);
      // A fixed time in the gap runs at its end, every year.
      expect(localRuns('30 2 * 3 0L', 2, '2026-01-01T00:00:00Z', 'Europe/Berlin')).toEqual([
        '2026-03-29 03:00:00',
        '2027-03-28 03:00:00',
      ]);
    });
  });

  describe('nextRuns on a zone it has not used yet', () => {
    afterEach(() => {
      vi.restoreAllMocks();
    });

    /** How many times `Intl` formats a time during `work`. */
    function intlCalls(work: () => void): number {
      const prototype = Intl.DateTimeFormat.prototype;
      // `format` is a getter that returns a bound function: count the reads.
      const descriptor = Object.getOwnPropertyDescriptor(prototype, 'format')!;
      let formats = 0;
      Object.defineProperty(prototype, 'format', {
        ...descriptor,
        get(this: Intl.DateTimeFormat) {
          formats++;
          return descriptor.get!.call(this);
        },
      });
      const formatToParts = vi.spyOn(prototype, 'formatToParts');
      try {
        work();
      } finally {
        Object.defineProperty(prototype, 'format', descriptor);
      }
      const calls = formats + formatToParts.mock.calls.length;
      vi.restoreAllMocks();
      return calls;
    }

    it('asks Intl only about the days around the runs, not the years between them', () => {
      // Zones no other test in this file uses, so that nothing about them is known yet.
      let leapDays: Date[] = [];
      const first = intlCalls(() => {
        leapDays = scheduler.nextRuns('0 0 29 2 *', 20, { from: new Date('2026-01-01T00:00:00Z'), timezone: 'Europe/Paris' });
      });
      expect(leapDays).toHaveLength(20);
      expect(leapDays.at(-1)!.toISOString()).toBe('2108-02-28T23:00:00.000Z'); // 2100 is no leap year
      // 80 years: a scan of every 12 hours in between would ask Intl some 58,000 times.
      expect(first).toBeLessThan(1500);
      // An earlier `from` than ever asked costs the same, not a rescan of everything after it.
      const earlier = intlCalls(() => {
        scheduler.nextRuns('0 0 29 2 *', 20, { from: new Date('1950-01-01T00:00:00Z'), timezone: 'Europe/Paris' });
      });
      expect(earlier).toBeLessThan(1500);
      const weekly = intlCalls(() => {
        scheduler.nextRuns('0 30 1 * * SUN', 20, { from: new Date('2026-01-01T00:00:00Z'), timezone: 'America/Chicago' });
      });
      expect(weekly).toBeLessThan(1000);
    });

    it('finds the same runs across transitions whatever was asked of the zone before, and in any order', () => {
      const expressions = ['*/30 * * * *', '30 2 * * *', '0 2,3 * * *', '15 1 * * *', '0 0 * * *'];
      // Around each zone's transitions of 2026, asked after far later and far earlier years, later days first.
      const days = ['2026-10-20', '2026-09-01', '2026-04-01', '2026-03-01'];
      for (const timezone of ['Asia/Jerusalem', 'America/Toronto', 'Pacific/Chatham', 'Australia/Lord_Howe']) {
        scheduler.nextRuns('0 0 1 1 *', 3, { from: new Date('2090-06-01T00:00:00Z'), timezone });
        scheduler.nextRuns('0 0 1 1 *', 3, { from: new Date('1975-06-01T00:00:00Z'), timezone });
        for (const expression of expressions) {
          for (const day of days) {
            const start = new Date(`${day}T00:00:00Z`);
            const listed = scheduler.nextRuns(expression, 100, { from: start, timezone }).map(String);
            // One run at a time, as the scheduler asks, each from the run before.
            const stepped = [];
            for (let time = start.getTime(); stepped.length < 100; ) {
              const [next] = scheduler.nextRuns(expression, 1, { from: time, timezone });
              stepped.push(String(next));
              time = next!.getTime();
            }
            expect(listed, `${timezone} ${expression} ${day}`).toEqual(stepped);
          }
        }
        // Checked against Intl: every half hour of local time, spaced 30 minutes apart in absolute time.
        const halfHours = scheduler.nextRuns('*/30 * * * *', 2000, { from: new Date('2026-03-01T00:00:00Z'), timezone });
        halfHours.forEach((date, index) => {
          expect(local(date, timezone).slice(14), timezone).toMatch(/^(00|30):00$/);
          if (index > 0) expect(date.getTime() - halfHours[index - 1]!.getTime()).toBe(30 * MINUTE);
        });
      }
    });
  });

  describe('nextRuns across daylight saving', () => {
    it('Europe/Berlin spring forward: 02:30 runs once, at 03:00 local, and every other day at 02:30', () => {
      expect(localRuns('30 2 * * *', 3, '2026-03-28T00:00:00Z', 'Europe/Berlin')).toEqual([
        '2026-03-28 02:30:00',
        '2026-03-29 03:00:00',
        '2026-03-30 02:30:00',
      ]);
      expect(runs('30 2 * * *', 1, '2026-03-28T12:00:00Z', 'Europe/Berlin')).toEqual(['2026-03-29T01:00:00.000Z']);
    });

    it('Europe/Berlin spring forward: times in the gap that meet at its end run once, 03:00 itself included', () => {
      expect(localRuns('0,30 2,3 * * *', 4, '2026-03-29T00:00:00Z', 'Europe/Berlin')).toEqual([
        '2026-03-29 03:00:00',
        '2026-03-29 03:30:00',
        '2026-03-30 02:00:00',
        '2026-03-30 02:30:00',
      ]);
    });

    it('Europe/Berlin fall back: 02:30 runs once, at its first occurrence', () => {
      expect(runs('30 2 * * *', 3, '2026-10-24T12:00:00Z', 'Europe/Berlin')).toEqual([
        '2026-10-25T00:30:00.000Z', // 02:30 CEST, not 02:30 CET an hour later
        '2026-10-26T01:30:00.000Z',
        '2026-10-27T01:30:00.000Z',
      ]);
    });

    it('America/New_York spring forward: 02:30 runs at 03:00 EDT', () => {
      expect(localRuns('30 2 * * *', 3, '2026-03-07T12:00:00Z', 'America/New_York')).toEqual([
        '2026-03-08 03:00:00',
        '2026-03-09 02:30:00',
        '2026-03-10 02:30:00',
      ]);
      expect(runs('30 2 * * *', 1, '2026-03-07T12:00:00Z', 'America/New_York')).toEqual(['2026-03-08T07:00:00.000Z']);
    });

    it('America/New_York fall back: 01:30 runs once, at 01:30 EDT', () => {
      expect(runs('30 1 * * *', 2, '2026-10-31T12:00:00Z', 'America/New_York')).toEqual([
        '2026-11-01T05:30:00.000Z',
        '2026-11-02T06:30:00.000Z',
      ]);
    });

    it('interval jobs keep their spacing in absolute time through the skipped hour', () => {
      for (const [timezone, from] of [
        ['Europe/Berlin', '2026-03-28T23:00:00Z'],
        ['America/New_York', '2026-03-08T05:00:00Z'],
      ] as const) {
        const times = scheduler.nextRuns('*/15 * * * *', 16, { from: new Date(from), timezone }).map((d) => d.getTime());
        const gaps = times.slice(1).map((time, index) => time - times[index]!);
        expect(new Set(gaps), timezone).toEqual(new Set([15 * MINUTE]));
      }
    });

    it('interval jobs run through both passes of the repeated hour, keeping their spacing', () => {
      expect(localRuns('*/30 * * * *', 6, '2026-10-24T23:40:00Z', 'Europe/Berlin')).toEqual([
        '2026-10-25 02:00:00',
        '2026-10-25 02:30:00',
        '2026-10-25 02:00:00',
        '2026-10-25 02:30:00',
        '2026-10-25 03:00:00',
        '2026-10-25 03:30:00',
      ]);
      const times = scheduler
        .nextRuns('0 * * * *', 5, { from: new Date('2026-11-01T03:30:00Z'), timezone: 'America/New_York' })
        .map((d) => d.getTime());
      expect(times.slice(1).map((time, index) => time - times[index]!)).toEqual([HOUR, HOUR, HOUR, HOUR]);
    });

    it('every-second jobs tick every second across a transition', () => {
      const times = scheduler
        .nextRuns('* * * * * *', 10, { from: new Date('2026-03-29T00:59:55Z'), timezone: 'Europe/Berlin' })
        .map((d) => d.getTime());
      expect(times.slice(1).map((time, index) => time - times[index]!)).toEqual(Array(9).fill(1000));
    });

    it('a fixed-time job runs exactly once on every calendar day (property over zones and two years)', () => {
      const allDays = new Set<string>();
      for (let day = Date.UTC(2026, 0, 1); day < Date.UTC(2028, 0, 1); day += 86_400_000) {
        allDays.add(new Date(day).toISOString().slice(0, 10));
      }
      fc.assert(
        fc.property(
          // Berlin and New York at 02:00/03:00, Santiago at midnight, Lord Howe by half an hour.
          fc.constantFrom('Europe/Berlin', 'America/New_York', 'America/Santiago', 'Australia/Lord_Howe'),
          fc.integer({ min: 0, max: 23 }),
          fc.integer({ min: 0, max: 59 }),
          (timezone, hour, minute) => {
            const dates = scheduler
              .nextRuns(`${minute} ${hour} * * *`, 735, { from: new Date('2025-12-30T12:00:00Z'), timezone })
              .filter((date) => {
                const day = local(date, timezone).slice(0, 4);
                return day === '2026' || day === '2027';
              });
            const days = dates.map((date) => local(date, timezone).slice(0, 10));
            expect(days).toHaveLength(allDays.size);
            expect(new Set(days)).toEqual(allDays);
            const expected = `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}:00`;
            dates.forEach((date, index) => {
              const time = local(date, timezone);
              if (time.slice(11) === expected) return;
              // The time did not exist that day: the run is the first instant after the gap.
              const wanted = `${days[index]} ${expected}`;
              expect(local(new Date(date.getTime() - 1000), timezone) < wanted && wanted < time, `${timezone} ${time}`).toBe(
                true,
              );
            });
          },
        ),
        { numRuns: 30 },
      );
    });
  });
});
