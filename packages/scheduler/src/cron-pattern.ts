import { InvalidCronExpressionError } from './errors.js';
import type { TimeZone } from './time-zone.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/**
 * The Gregorian calendar repeats every 400 years, weekdays included (146,097
 * days are exactly 20,871 weeks): a pattern that matches some date matches
 * one in any 400 years.
 */
const CALENDAR_CYCLE = 146_097 * DAY;
/** How far ahead a next run is looked for: a whole cycle, and the widest offset from UTC on both ends. */
const HORIZON = CALENDAR_CYCLE + 2 * DAY;
/**
 * No zone's offset from UTC reaches this (the widest, historical local mean
 * times, stay within ±16 h): a run's local time lies within it of its instant.
 */
const MAX_OFFSET = 18 * HOUR;
/** The last instant a `Date` can hold. */
const MAX_TIME = 8.64e15;
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
  readonly #weekdayRules: Uint8Array;
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
    this.#weekdayRules = fields.weekdayRules;
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
    if (pattern.firstLocalMatch(PROBE_START, PROBE_START + CALENDAR_CYCLE) === -1) {
      throw new InvalidCronExpressionError(expression, 'it never matches a date');
    }
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(expression, pattern);
    return pattern;
  }

  /**
   * The first instant strictly after `after`, on a whole second, at which the
   * pattern runs in `zone`, applying the DST rules of {@link fixedTime}.
   * `undefined` when there is none within 400 years (the calendar's cycle):
   * never for a fixed-time pattern; for an interval pattern only when every
   * time it matches falls into a skipped DST hour (or past year 275,760).
   */
  nextAfter(after: number, zone: TimeZone): number | undefined {
    let time = Math.floor(after / 1000) * 1000 + 1000;
    const limit = Math.min(time + HORIZON, MAX_TIME);
    for (let first = true; time < limit; first = false) {
      if (!first) {
        // Every run at or after `time` has a local time at or after `earliest`, and runs at
        // most MAX_OFFSET before it: skip to there without asking the zone about the years between.
        const earliest = this.firstLocalMatch(time - MAX_OFFSET, limit + MAX_OFFSET);
        if (earliest === -1) return undefined;
        if (earliest - MAX_OFFSET > time) time = earliest - MAX_OFFSET;
        if (time >= limit) return undefined;
      }
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
      const high = Math.min(segment.end, limit) + offset;
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
    const rule = this.#weekdayRules[weekday]!;
    if (rule === 0) return false;
    if ((rule & EVERY_OCCURRENCE) !== 0 || ((rule >>> Math.ceil(date / 7)) & 1) === 1) return true;
    return (rule & LAST_OCCURRENCE) !== 0 && date + 7 > monthLength;
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
  weekdayRules: Uint8Array;
  dayOfMonthRestricted: boolean;
  dayOfWeekRestricted: boolean;
}

/** Bits of a weekday's rule: any occurrence, the nth (`#n`, bit n) and the last (`L`). */
const EVERY_OCCURRENCE = 1;
const LAST_OCCURRENCE = 1 << 6;

interface FieldSpec {
  readonly name: (typeof FIELD_NAMES)[number];
  readonly min: number;
  readonly max: number;
  /** The largest value `*` stands for (day of week: 6, as 7 is Sunday again). */
  readonly wildcardMax: number;
  /** Names accepted for values, upper case: `names[i]` stands for `min + i`. */
  readonly names?: readonly string[];
  /** What the field takes, for error messages. */
  readonly allowed: string;
}

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const FIELDS: readonly FieldSpec[] = [
  { name: 'second', min: 0, max: 59, wildcardMax: 59, allowed: 'values 0-59' },
  { name: 'minute', min: 0, max: 59, wildcardMax: 59, allowed: 'values 0-59' },
  { name: 'hour', min: 0, max: 23, wildcardMax: 23, allowed: 'values 0-23' },
  {
    name: 'day-of-month',
    min: 1,
    max: 31,
    wildcardMax: 31,
    allowed: 'values 1-31, L (last day), LW (last weekday), a day with W (15W, the nearest weekday)',
  },
  { name: 'month', min: 1, max: 12, wildcardMax: 12, names: MONTH_NAMES, allowed: 'values 1-12 or JAN-DEC' },
  {
    name: 'day-of-week',
    min: 0,
    max: 7,
    wildcardMax: 6,
    names: WEEKDAY_NAMES,
    allowed:
      'values 0-7 or SUN-SAT (0 and 7 are Sunday), a weekday with L (5L, the last Friday) or with #1-#5 (MON#2, the second Monday)',
  },
];

/** One field's values, with the day fields' special items. */
interface FieldValues {
  values: Set<number>;
  lastDay: boolean;
  lastWeekday: boolean;
  nearestWeekdays: number[];
  /** Day of week: per weekday, the occurrences it runs on (EVERY_OCCURRENCE, bit n for `#n`, LAST_OCCURRENCE). */
  weekdayRules: Uint8Array;
  /** Seconds, minutes, hours: the ceiling table, shared by every pattern with this field. */
  table: Int8Array | undefined;
  /** Day of month, month: the values as a bit mask. */
  mask: number;
}

/** Expressions share few distinct fields: each is parsed once. */
const fieldCache = new Map<string, FieldValues>();

class FieldError extends Error {}

/** A value of the field: a number in range or, where the field has them, a name. */
function readValue(spec: FieldSpec, text: string): number {
  let value: number;
  if (/^\d+$/.test(text)) {
    value = Number(text);
  } else {
    const index = spec.names?.indexOf(text) ?? -1;
    if (index === -1) throw new FieldError('');
    value = spec.min + index;
  }
  if (value < spec.min || value > spec.max) {
    throw new FieldError(`${text} is outside ${spec.min}-${spec.max}`);
  }
  return value;
}

/** One item of a list: `*`, `?`, a value, a range, each with an optional step; or a day field's special item. */
function readItem(spec: FieldSpec, item: string, into: FieldValues): void {
  if (spec.name === 'day-of-month') {
    if (item === 'L') {
      into.lastDay = true;
      return;
    }
    if (item === 'LW') {
      into.lastWeekday = true;
      return;
    }
    const nearest = /^(\d+)W$/.exec(item);
    if (nearest !== null) {
      const day = Number(nearest[1]);
      if (day < 1 || day > 31) throw new FieldError(`${item} is outside 1-31`);
      if (!into.nearestWeekdays.includes(day)) into.nearestWeekdays.push(day);
      return;
    }
  }
  if (spec.name === 'day-of-week') {
    if (item === 'L') {
      throw new FieldError('L needs a weekday before it in this field (5L or FRIL: the last Friday of the month)');
    }
    const special = /^(\w+?)(?:L|#(\d+))$/.exec(item);
    if (special !== null && (spec.names!.includes(special[1]!) || /^\d+$/.test(special[1]!))) {
      const weekday = readValue(spec, special[1]!) % 7;
      if (special[2] === undefined) {
        into.weekdayRules[weekday]! |= LAST_OCCURRENCE;
        return;
      }
      const occurrence = Number(special[2]);
      if (occurrence < 1 || occurrence > 5) {
        throw new FieldError(`#${special[2]} is not an occurrence: a month has at most 5 of a weekday (#1-#5)`);
      }
      into.weekdayRules[weekday]! |= 1 << occurrence;
      return;
    }
  }
  const parts = /^([^/]+)(?:\/(\d+))?$/.exec(item);
  if (parts === null) throw new FieldError('');
  const [, base, stepText] = parts as unknown as [string, string, string | undefined];
  let low: number;
  let high: number;
  if (base === '*' || base === '?') {
    if (base === '?' && spec.name !== 'day-of-month' && spec.name !== 'day-of-week') {
      throw new FieldError('? stands for any day and is only for the day-of-month and day-of-week fields; use *');
    }
    low = spec.min;
    high = spec.wildcardMax;
  } else {
    const range = /^([^-]+)-([^-]+)$/.exec(base);
    if (range === null) {
      low = readValue(spec, base);
      // `10/5`: from 10 to the end of the field.
      high = stepText === undefined ? low : spec.wildcardMax;
    } else {
      low = readValue(spec, range[1]!);
      high = readValue(spec, range[2]!);
      if (low > high) {
        const wrapped =
          spec.name === 'day-of-week'
            ? `${range[1]}-SAT,SUN-${range[2]}`
            : `${range[1]}-${spec.wildcardMax},${spec.min}-${range[2]}`;
        throw new FieldError(`the range ${base} runs backwards; ranges do not wrap around (write ${wrapped})`);
      }
    }
  }
  let step = 1;
  if (stepText !== undefined) {
    step = Number(stepText);
    const widest = spec.wildcardMax - spec.min;
    if (step < 1 || step > widest) {
      throw new FieldError(`a step of ${stepText} is not allowed; steps in the ${spec.name} field are 1-${widest}`);
    }
  }
  for (let value = low; value <= high; value += step) {
    if (spec.name === 'day-of-week') into.weekdayRules[value % 7]! |= EVERY_OCCURRENCE;
    else into.values.add(value);
  }
}

/**
 * Parses one field: a list of items, duplicates and overlaps merged (`0,7`,
 * `1-5,3`, `1,MON`). Which days a month has is checked later, by looking for
 * a matching date.
 */
function parseField(expression: string, index: number, text: string): FieldValues {
  const key = `${index} ${text}`;
  const cached = fieldCache.get(key);
  if (cached !== undefined) return cached;
  const spec = FIELDS[index]!;
  const field: FieldValues = {
    values: new Set(),
    lastDay: false,
    lastWeekday: false,
    nearestWeekdays: [],
    weekdayRules: new Uint8Array(7),
    table: undefined,
    mask: 0,
  };
  const dayField = spec.name === 'day-of-month' || spec.name === 'day-of-week';
  for (const item of text.split(',')) {
    try {
      if (item === '') throw new FieldError('the list has an empty item');
      readItem(spec, item.toUpperCase(), field);
    } catch (error) {
      if (!(error instanceof FieldError)) throw error;
      const reason =
        error.message !== ''
          ? error.message
          : `"${item}" is not understood; the ${spec.name} field takes ${spec.allowed}, * ${dayField ? 'or ? ' : ''}for any, ` +
            'ranges (1-5), steps (*/15, 1-30/5, 10/5) and lists of these (1,5)';
      throw new InvalidCronExpressionError(expression, `${spec.name} field ("${text}"): ${reason}`);
    }
  }
  if (index <= 2) field.table = ceilingTable([...field.values], index === 2 ? 24 : 60);
  else field.mask = bitsOf(field.values);
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
  const [seconds, minutes, hours, daysOfMonth, months, daysOfWeek] = fields.map((field, index) =>
    parseField(expression, index, field),
  ) as [FieldValues, FieldValues, FieldValues, FieldValues, FieldValues, FieldValues];
  const isWildcard = (field: string) => field === '*' || field === '?';
  return {
    fixedTime: ![fields[0]!, fields[1]!, fields[2]!].some((field) => /[*/]/.test(field)),
    seconds: seconds.table!,
    minutes: minutes.table!,
    hours: hours.table!,
    months: months.mask,
    daysOfMonth: daysOfMonth.mask,
    lastDayOfMonth: daysOfMonth.lastDay,
    nearestWeekdays: daysOfMonth.nearestWeekdays,
    lastWeekdayOfMonth: daysOfMonth.lastWeekday,
    weekdayRules: daysOfWeek.weekdayRules,
    dayOfMonthRestricted: !isWildcard(fields[3]!),
    dayOfWeekRestricted: !isWildcard(fields[5]!),
  };
}
