import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
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

    it('refuses bad arguments with a TypeError naming them', () => {
      expect(() => scheduler.nextRuns(5 as never, 1)).toThrow(/Expected `expression` to be a cron expression/);
      expect(() => scheduler.nextRuns('* * * * *', -1)).toThrow('Expected `count` to be a non-negative integer, got `-1` (number)');
      expect(() => scheduler.nextRuns('* * * * *', 1, { from: new Date('nope') })).toThrow(/Expected `from`/);
      expect(() => scheduler.nextRuns('* * * * *', 1, { timezone: 'Mars/Olympus' })).toThrow(
        'Expected `timezone` to be a time zone known to Intl, such as "Europe/Berlin", got `"Mars/Olympus"` (string)',
      );
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
