import { CronExpressionParser } from 'cron-parser';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CronScheduler } from './cron-scheduler.js';
import { InvalidCronExpressionError } from './errors.js';

const scheduler = new CronScheduler({ timezone: 'UTC' });

/** One list item of a field with values `min`-`max`: `*`, `n`, `a-b`, `*\/s` or `a-b/s`. */
function item(min: number, max: number): fc.Arbitrary<string> {
  const value = fc.integer({ min, max });
  const step = fc.integer({ min: 1, max: max - min });
  const range = fc.tuple(value, value).map(([a, b]) => (a <= b ? `${a}-${b}` : `${b}-${a}`));
  return fc.oneof(
    fc.constant('*'),
    value.map(String),
    range,
    step.map((s) => `*/${s}`),
    fc.tuple(range, step).map(([r, s]) => `${r}/${s}`),
  );
}

/** A field: one item, or a list of two values that cron-parser also takes (it refuses overlapping items). */
function field(min: number, max: number): fc.Arbitrary<string> {
  const pair = fc
    .tuple(fc.integer({ min, max }), fc.integer({ min, max }))
    .filter(([a, b]) => a !== b)
    .map(([a, b]) => `${Math.min(a, b)},${Math.max(a, b)}`);
  return fc.oneof({ arbitrary: item(min, max), weight: 4 }, { arbitrary: pair, weight: 1 });
}

describe('CronScheduler', () => {
  describe('nextRuns compared with cron-parser', () => {
    it('lists the same runs for random expressions (UTC)', () => {
      let compared = 0;
      fc.assert(
        fc.property(
          field(0, 59),
          field(0, 59),
          field(0, 23),
          field(1, 31),
          field(1, 12),
          field(0, 6),
          fc.boolean(),
          fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2090-01-01T00:00:00Z'), noInvalidDate: true }),
          (second, minute, hour, dayOfMonth, month, dayOfWeek, byMonthDay, from) => {
            // Both day fields restricted is compared by the dedicated tests; here one of them is `*`.
            const expression = [
              second,
              minute,
              hour,
              byMonthDay ? dayOfMonth : '*',
              month,
              byMonthDay ? '*' : dayOfWeek,
            ].join(' ');
            let reference: string[];
            try {
              const iterator = CronExpressionParser.parse(expression, { currentDate: from, tz: 'UTC' });
              reference = Array.from({ length: 5 }, () => iterator.next().toDate().toISOString());
            } catch {
              // cron-parser gives up on dates that are years apart; ours is checked elsewhere.
              return;
            }
            let ours: string[];
            try {
              ours = scheduler.nextRuns(expression, 5, { from }).map((date) => date.toISOString());
            } catch (error) {
              expect(error, expression).toBeInstanceOf(InvalidCronExpressionError);
              expect((error as Error).message, expression).toMatch(/never matches a date/);
              return;
            }
            compared++;
            expect(ours, expression).toEqual(reference);
          },
        ),
        { numRuns: 300 },
      );
      expect(compared).toBeGreaterThan(100);
    });
  });
});
