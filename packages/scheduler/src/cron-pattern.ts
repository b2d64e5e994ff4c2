import { CronExpressionParser } from 'cron-parser';
import { InvalidCronExpressionError } from './errors.js';
import type { TimeZone } from './time-zone.js';

const DAY = 86_400_000;
const YEAR = 365 * DAY;
/** How far ahead a next run is looked for; every cron pattern repeats well within it. */
const HORIZON = 30 * YEAR;
/** A fixed local date to check that an expression matches anything at all. */
const PROBE_START = Date.UTC(2024, 0, 1);

const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
  '@minutely': '* * * * *',
  '@secondly': '* * * * * *',
  '@weekdays': '0 0 * * 1-5',
  '@weekends': '0 0 * * 0,6',
};

const FIELD_NAMES = ['second', 'minute', 'hour', 'day-of-month', 'month', 'day-of-week'] as const;

/** `[y, m, d]` of a day number (days since 1970-01-01), proleptic Gregorian. */
function civilFromDays(days: number): [number, number, number] {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  return [yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** `table[v]` = the smallest allowed value `>= v`, or -1. */
function ceilingTable(values: readonly number[], size: number): Int8Array {
  const table = new Int8Array(size + 1).fill(-1);
  let next = -1;
  const allowed = new Set(values);
  for (let value = size - 1; value >= 0; value--) {
    if (allowed.has(value)) next = value;
    table[value] = next;
  }
  return table;
}

function bitsOf(values: Iterable<number>): number {
  let mask = 0;
  for (const value of values) mask |= 1 << value;
  return mask;
}

/**
 * A parsed cron expression: what it allows, in a compact form that answers
 * "the first matching local time at or after X" with table look-ups.
 */
export class CronPattern {
  /** The expression as given. */
  readonly source: string;
  /**
   * No wildcard or step in seconds, minutes and hours (`30 2 * * *`): a time
   * in a DST gap runs at the end of the gap, a repeated time runs once. Every
   * other pattern is an interval pattern: gap times do not exist, repeated
   * times run on both passes, so the spacing holds in absolute time.
   */
  readonly fixedTime: boolean;
  readonly #seconds: Int8Array;
  readonly #minutes: Int8Array;
  readonly #hours: Int8Array;
  readonly #firstSecond: number;
  readonly #firstMinute: number;
  readonly #months: number;
  readonly #daysOfMonth: number;
  readonly #lastDayOfMonth: boolean;
  readonly #nearestWeekdays: readonly number[];
  readonly #lastWeekdayOfMonth: boolean;
  readonly #daysOfWeek: number;
  readonly #nthDayOfWeek: number;
  readonly #lastDaysOfWeek: number;
  readonly #dayOfMonthRestricted: boolean;
  readonly #dayOfWeekRestricted: boolean;

  private constructor(source: string, fields: ParsedFields) {
    this.source = source;
    this.fixedTime = fields.fixedTime;
    this.#seconds = fields.seconds;
    this.#minutes = fields.minutes;
    this.#hours = fields.hours;
    this.#firstSecond = fields.seconds[0]!;
    this.#firstMinute = fields.minutes[0]!;
    this.#months = fields.months;
    this.#daysOfMonth = fields.daysOfMonth;
    this.#lastDayOfMonth = fields.lastDayOfMonth;
    this.#nearestWeekdays = fields.nearestWeekdays;
    this.#lastWeekdayOfMonth = fields.lastWeekdayOfMonth;
    this.#daysOfWeek = fields.daysOfWeek;
    this.#nthDayOfWeek = fields.nthDayOfWeek;
    this.#lastDaysOfWeek = fields.lastDaysOfWeek;
    this.#dayOfMonthRestricted = fields.dayOfMonthRestricted;
    this.#dayOfWeekRestricted = fields.dayOfWeekRestricted;
  }

  /**
   * Parses an expression; throws `InvalidCronExpressionError` quoting it and
   * saying what is wrong, including an expression that never matches a date.
   */
  static parse(expression: string): CronPattern {
    const cached = cache.get(expression);
    if (cached !== undefined) return cached;
    const pattern = new CronPattern(expression, parseFields(expression));
    if (pattern.firstLocalMatch(PROBE_START, PROBE_START + HORIZON) === -1) {
      throw new InvalidCronExpressionError(expression, 'it never matches a date');
    }
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(expression, pattern);
    return pattern;
  }

  /**
   * The first instant strictly after `after`, on a whole second, at which the
   * pattern runs in `zone`, applying the DST rules of {@link fixedTime}.
   * `undefined` only when nothing matches within 30 years.
   */
  nextAfter(after: number, zone: TimeZone): number | undefined {
    let time = Math.floor(after / 1000) * 1000 + 1000;
    const limit = time + HORIZON;
    while (time < limit) {
      const segment = zone.segmentAt(time);
      const offset = segment.offset;
      if (this.fixedTime && time === segment.start && segment.previousOffset < offset) {
        // The clock sprang forward at `time`: local times in the gap run now, once.
        if (this.firstLocalMatch(time + segment.previousOffset, time + offset) !== -1) return time;
      }
      let low = time + offset;
      if (this.fixedTime && segment.previousOffset > offset) {
        // The clock fell back at `segment.start`: the repeated local times already ran.
        low = Math.max(low, segment.start + segment.previousOffset);
      }
      const high = segment.end === Infinity ? limit + offset : segment.end + offset;
      const local = this.firstLocalMatch(low, high);
      if (local !== -1) return local - offset;
      time = segment.end;
    }
    return undefined;
  }

  /**
   * The first local time (ms on a UTC-based scale of wall-clock readings) in
   * `[low, high)` that the pattern matches, or -1.
   */
  firstLocalMatch(low: number, high: number): number {
    const start = Math.ceil(low / 1000) * 1000;
    if (start >= high) return -1;
    let day = Math.floor(start / DAY);
    let secondOfDay = (start - day * DAY) / 1000;
    let [year, month, date] = civilFromDays(day);
    let monthLength = daysInMonth(year, month);
    let weekday = (((day + 4) % 7) + 7) % 7;
    while (day * DAY < high) {
      if (((this.#months >>> month) & 1) === 0) {
        const skip = monthLength - date + 1;
        day += skip;
        weekday = (weekday + skip) % 7;
        date = 1;
        month++;
        if (month > 12) {
          month = 1;
          year++;
        }
        monthLength = daysInMonth(year, month);
        secondOfDay = 0;
        continue;
      }
      if (this.#matchesDay(date, monthLength, weekday)) {
        const second = this.#firstSecondOfDay(secondOfDay);
        if (second !== -1) {
          const local = day * DAY + second * 1000;
          return local < high ? local : -1;
        }
      }
      day++;
      date++;
      weekday = (weekday + 1) % 7;
      secondOfDay = 0;
      if (date > monthLength) {
        date = 1;
        month++;
        if (month > 12) {
          month = 1;
          year++;
        }
        monthLength = daysInMonth(year, month);
      }
    }
    return -1;
  }

  #matchesDay(date: number, monthLength: number, weekday: number): boolean {
    const dayOfMonth = this.#dayOfMonthRestricted;
    const dayOfWeek = this.#dayOfWeekRestricted;
    if (!dayOfMonth && !dayOfWeek) return true;
    if (dayOfMonth && this.#matchesDayOfMonth(date, monthLength, weekday)) return true;
    if (dayOfWeek && this.#matchesDayOfWeek(date, monthLength, weekday)) return true;
    return false;
  }

  #matchesDayOfMonth(date: number, monthLength: number, weekday: number): boolean {
    if ((this.#daysOfMonth >>> date) & 1) return true;
    if (this.#lastDayOfMonth && date === monthLength) return true;
    if (weekday === 0 || weekday === 6) return false;
    for (const target of this.#nearestWeekdays) {
      if (target > monthLength) continue;
      const targetWeekday = (((weekday + target - date) % 7) + 7) % 7;
      let nearest = target;
      if (targetWeekday === 6) nearest = target === 1 ? 3 : target - 1;
      else if (targetWeekday === 0) nearest = target === monthLength ? target - 2 : target + 1;
      if (nearest === date) return true;
    }
    if (this.#lastWeekdayOfMonth) {
      const lastWeekday = (((weekday + monthLength - date) % 7) + 7) % 7;
      const last = lastWeekday === 6 ? monthLength - 1 : lastWeekday === 0 ? monthLength - 2 : monthLength;
      if (last === date) return true;
    }
    return false;
  }

  #matchesDayOfWeek(date: number, monthLength: number, weekday: number): boolean {
    if ((this.#daysOfWeek >>> weekday) & 1) {
      if (this.#nthDayOfWeek === 0 || Math.ceil(date / 7) === this.#nthDayOfWeek) return true;
    }
    return ((this.#lastDaysOfWeek >>> weekday) & 1) === 1 && date + 7 > monthLength;
  }

  /** The first allowed second of the day at or after `secondOfDay`, or -1. */
  #firstSecondOfDay(secondOfDay: number): number {
    const hour0 = Math.floor(secondOfDay / 3600);
    const minute0 = Math.floor((secondOfDay % 3600) / 60);
    const second0 = secondOfDay % 60;
    const hour = this.#hours[hour0]!;
    if (hour === -1) return -1;
    if (hour > hour0) return hour * 3600 + this.#firstMinute * 60 + this.#firstSecond;
    if (this.#minutes[minute0] === minute0) {
      const second = this.#seconds[second0]!;
      if (second !== -1) return hour0 * 3600 + minute0 * 60 + second;
    }
    const minute = this.#minutes[minute0 + 1]!;
    if (minute !== -1) return hour0 * 3600 + minute * 60 + this.#firstSecond;
    const nextHour = this.#hours[hour0 + 1]!;
    if (nextHour === -1) return -1;
    return nextHour * 3600 + this.#firstMinute * 60 + this.#firstSecond;
  }
}

const CACHE_LIMIT = 10_000;
const cache = new Map<string, CronPattern>();

/** What the pattern keeps: look-up tables (shared between patterns) and bit masks. */
interface ParsedFields {
  fixedTime: boolean;
  seconds: Int8Array;
  minutes: Int8Array;
  hours: Int8Array;
  months: number;
  daysOfMonth: number;
  lastDayOfMonth: boolean;
  nearestWeekdays: readonly number[];
  lastWeekdayOfMonth: boolean;
  daysOfWeek: number;
  nthDayOfWeek: number;
  lastDaysOfWeek: number;
  dayOfMonthRestricted: boolean;
  dayOfWeekRestricted: boolean;
}

/** One field as cron-parser read it, with what the pattern derives from it. */
interface ParsedField {
  numbers: number[];
  /** Day-of-month `L`. */
  hasLast: boolean;
  /** Day-of-week `5L` and friends, as weekday numbers. */
  lastWeekdays: number[];
  /** Day-of-week `#n`. */
  nth: number;
  /** Ceiling table (seconds, minutes, hours) or bit mask (the rest). */
  table: Int8Array | undefined;
  mask: number;
}

const FIELD_KEYS = ['second', 'minute', 'hour', 'dayOfMonth', 'month', 'dayOfWeek'] as const;
const FIELD_SIZES = [60, 60, 24] as const;
/** Expressions share few distinct fields: each is parsed by cron-parser once. */
const fieldCache = new Map<string, ParsedField>();

/**
 * Parses one field with cron-parser, the others left open, so that its
 * errors name the field. Which days a month has is checked later, by looking
 * for a matching date.
 */
function parseField(expression: string, index: number, text: string): ParsedField {
  const key = `${index} ${text}`;
  const cached = fieldCache.get(key);
  if (cached !== undefined) return cached;
  const template = ['0', '*', '*', '*', '*', '*'];
  template[index] = text;
  let values: readonly (number | string)[];
  let nth = 0;
  try {
    const collection = CronExpressionParser.parse(template.join(' ')).fields;
    values = collection[FIELD_KEYS[index]!].values as readonly (number | string)[];
    if (index === 5) nth = collection.dayOfWeek.nthDay;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new InvalidCronExpressionError(expression, `${FIELD_NAMES[index]} field ("${text}"): ${message}`, {
      cause: error,
    });
  }
  const numbers: number[] = [];
  const lastWeekdays: number[] = [];
  let hasLast = false;
  for (const value of values) {
    if (typeof value === 'number') numbers.push(index === 5 ? value % 7 : value);
    else if (value === 'L') hasLast = true;
    else if (/^\d+L$/.test(value)) lastWeekdays.push(Number.parseInt(value, 10) % 7);
  }
  const size = FIELD_SIZES[index as 0 | 1 | 2];
  const field: ParsedField = {
    numbers,
    hasLast,
    lastWeekdays,
    nth,
    table: size === undefined ? undefined : ceilingTable(numbers, size),
    mask: size === undefined ? bitsOf(numbers) : 0,
  };
  if (fieldCache.size >= CACHE_LIMIT) fieldCache.clear();
  fieldCache.set(key, field);
  return field;
}

function parseFields(expression: string): ParsedFields {
  const fail = (reason: string): never => {
    throw new InvalidCronExpressionError(expression, reason);
  };
  let text = expression.trim();
  if (text === '') fail('it is empty');
  if (text.startsWith('@')) {
    const macro = MACROS[text.toLowerCase()];
    if (macro === undefined) {
      fail(
        text.toLowerCase() === '@reboot'
          ? '@reboot is not supported (a scheduler has no notion of boot)'
          : `unknown macro; use one of ${Object.keys(MACROS).join(', ')}`,
      );
    }
    text = macro!;
  }
  const fields = text.split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    fail(
      `expected 5 fields (minute hour day-of-month month day-of-week) or 6 with leading seconds, got ${fields.length}`,
    );
  }
  if (fields.length === 5) fields.unshift('0');
  fields.forEach((field, index) => {
    if (/h/i.test(index >= 4 ? field.replace(/[a-z]{3}/gi, '') : field)) {
      fail(`hashed values (H) are not supported in the ${FIELD_NAMES[index]} field ("${field}")`);
    }
  });
  const rawDayOfMonth = fields[3]!.toUpperCase();
  const rawDayOfWeek = fields[5]!.toUpperCase();

  // cron-parser has no `W`: take `15W` and `LW` out of the day-of-month list and match them here.
  const nearestWeekdays: number[] = [];
  let lastWeekdayOfMonth = false;
  const dayOfMonthItems: string[] = [];
  for (const item of rawDayOfMonth.split(',')) {
    const match = /^(\d+|L)W$/.exec(item);
    if (match === null) {
      dayOfMonthItems.push(item);
    } else if (match[1] === 'L') {
      lastWeekdayOfMonth = true;
    } else {
      const target = Number(match[1]);
      if (target < 1 || target > 31) fail(`day-of-month field ("${fields[3]}"): ${item} is outside 1-31`);
      nearestWeekdays.push(target);
    }
  }
  const seconds = parseField(expression, 0, fields[0]!);
  const minutes = parseField(expression, 1, fields[1]!);
  const hours = parseField(expression, 2, fields[2]!);
  const daysOfMonth =
    dayOfMonthItems.length === 0 ? undefined : parseField(expression, 3, dayOfMonthItems.join(','));
  const months = parseField(expression, 4, fields[4]!);
  const daysOfWeek = parseField(expression, 5, rawDayOfWeek);

  return {
    fixedTime: ![fields[0]!, fields[1]!, fields[2]!].some((field) => /[*?/]/.test(field)),
    seconds: seconds.table!,
    minutes: minutes.table!,
    hours: hours.table!,
    months: months.mask,
    daysOfMonth: daysOfMonth?.mask ?? 0,
    lastDayOfMonth: daysOfMonth?.hasLast ?? false,
    nearestWeekdays,
    lastWeekdayOfMonth,
    daysOfWeek: daysOfWeek.mask,
    nthDayOfWeek: daysOfWeek.nth,
    lastDaysOfWeek: bitsOf(daysOfWeek.lastWeekdays),
    dayOfMonthRestricted: rawDayOfMonth !== '*' && rawDayOfMonth !== '?',
    dayOfWeekRestricted: rawDayOfWeek !== '*' && rawDayOfWeek !== '?',
  };
}
