import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTimeZone } from './time-zone.js';

const HOUR = 3_600_000;
const STEP = 3 * HOUR;
const ZONES = ['Europe/Berlin', 'America/New_York', 'America/Santiago', 'Australia/Lord_Howe'] as const;
const YEARS = [1996, 2026, 2071] as const;

/**
 * Local minus UTC at `time`, read independently of the code under test: the
 * wall-clock fields `Intl` formats (not the offset name), as a UTC date.
 */
function referenceOffset(format: Intl.DateTimeFormat, time: number): number {
  const fields: Record<string, number> = {};
  for (const part of format.formatToParts(time)) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  const local = Date.UTC(fields.year!, fields.month! - 1, fields.day!, fields.hour! % 24, fields.minute!, fields.second!);
  return local - Math.floor(time / 1000) * 1000;
}

const references = new Map<string, { offset: (time: number) => number; transitions: (year: number) => number[] }>();

/** The zone's offsets and its transitions in a year, found by probing every 3 hours and bisecting to the second. */
function reference(zone: string) {
  let cached = references.get(zone);
  if (cached !== undefined) return cached;
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  const offset = (time: number) => referenceOffset(format, time);
  const transitions = (year: number) => {
    const found: number[] = [];
    const end = Date.UTC(year + 1, 0, 1);
    let before = offset(Date.UTC(year, 0, 1));
    for (let time = Date.UTC(year, 0, 1); time < end; time += STEP) {
      const after = offset(time + STEP);
      if (after === before) continue;
      let low = time / 1000;
      let high = (time + STEP) / 1000;
      while (high - low > 1) {
        const middle = Math.floor((low + high) / 2);
        if (offset(middle * 1000) === before) low = middle;
        else high = middle;
      }
      found.push(high * 1000);
      before = after;
    }
    return found;
  };
  cached = { offset, transitions };
  references.set(zone, cached);
  return cached;
}

describe('TimeZone', () => {
  describe('segmentAt', () => {
    it('finds the transitions of a year to the second, learning the offsets lazily in any order', { timeout: 60_000 }, () => {
      const expected = new Map(
        ZONES.flatMap((zone) => YEARS.map((year) => [`${zone} ${year}`, reference(zone).transitions(year)] as const)),
      );
      // Two transitions a year (Santiago's and Lord Howe's half-hour shifts included).
      for (const [key, transitions] of expected) expect(transitions, key).toHaveLength(2);
      fc.assert(
        fc.property(
          fc.constantFrom(...ZONES),
          fc.shuffledSubarray([...YEARS], { minLength: 3, maxLength: 3 }),
          fc.array(fc.integer({ min: 0, max: 365 * 24 - 1 }), { maxLength: 5 }),
          (name, years, hours) => {
            const zone = createTimeZone(name)!;
            // First ask about scattered instants, later years before earlier ones or the other way round.
            for (const year of years) for (const hour of hours) zone.segmentAt(Date.UTC(year, 0, 1) + hour * HOUR);
            for (const year of years) {
              const found: number[] = [];
              const end = Date.UTC(year + 1, 0, 1);
              for (let time = Date.UTC(year, 0, 1); time < end; ) {
                const segment = zone.segmentAt(time);
                expect(segment.end).toBeGreaterThan(time);
                if (!segment.pseudoEnd && segment.end < end) found.push(segment.end);
                time = segment.end;
              }
              expect(found, `${name} ${year}`).toEqual(expected.get(`${name} ${year}`));
            }
          },
        ),
        { numRuns: 12 },
      );
    });

    it('describes the stretch around any instant as Intl does (offset, start, end, offset before)', () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...ZONES),
          fc.array(fc.integer({ min: Date.UTC(1980, 0, 1), max: Date.UTC(2100, 0, 1) }), { minLength: 1, maxLength: 20 }),
          (name, times) => {
            const zone = createTimeZone(name)!;
            const { offset } = reference(name);
            for (const time of times) {
              const segment = zone.segmentAt(time);
              expect(segment.offset, `${name} ${new Date(time).toISOString()}`).toBe(offset(time));
              expect(zone.offsetAt(time)).toBe(offset(time));
              expect(segment.start <= time && time < segment.end).toBe(true);
              if (segment.start !== -Infinity) {
                expect(offset(segment.start)).toBe(segment.offset);
                expect(offset(segment.start - 1000)).toBe(segment.previousOffset);
                expect(segment.previousOffset).not.toBe(segment.offset);
              } else {
                expect(offset(time - 25 * HOUR)).toBe(segment.offset);
              }
              if (!segment.pseudoEnd) {
                expect(offset(segment.end - 1000)).toBe(segment.offset);
                expect(offset(segment.end)).not.toBe(segment.offset);
              } else {
                expect(offset(segment.end - 1000)).toBe(segment.offset);
              }
            }
          },
        ),
        { numRuns: 40 },
      );
    });
  });
});
