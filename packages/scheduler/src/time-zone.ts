const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Offsets are probed this far apart; no zone changes its offset twice within it. */
const PROBE_STEP = 12 * HOUR;
/** How far a scan reaches past the instant that needed it. */
const SCAN_CHUNK = 120 * DAY;

/** A stretch of time with one UTC offset. */
export interface OffsetSegment {
  /** The transition that began the stretch; `-Infinity` when it lies before what was scanned. */
  start: number;
  /** The next transition, or the end of what has been scanned so far (`pseudoEnd`). */
  end: number;
  /** True when `end` is only the edge of the scan, not a transition. */
  pseudoEnd: boolean;
  /** Local minus UTC, in ms. */
  offset: number;
  /** The offset before `start`; equal to `offset` when `start` is `-Infinity`. */
  previousOffset: number;
}

/**
 * The UTC offsets of one IANA zone, learnt from `Intl` and kept as a sorted
 * list of transitions over the range scanned so far, so that looking up an
 * offset is a binary search instead of a call into `Intl`.
 */
export class TimeZone {
  readonly name: string;
  readonly #format: Intl.DateTimeFormat | undefined;
  #from = 0;
  #to = 0;
  #scanned = false;
  #baseOffset = 0;
  /** Transition instants, ascending. */
  #transitions: number[] = [];
  /** The offset that starts at the transition of the same index. */
  #offsets: number[] = [];

  constructor(name: string, format: Intl.DateTimeFormat | undefined) {
    this.name = name;
    this.#format = format;
  }

  /** Local minus UTC at `time`, in ms, asked of `Intl` directly. */
  probe(time: number): number {
    if (this.#format === undefined) return 0;
    const second = Math.floor(time / 1000) * 1000;
    let year = 0;
    let month = 0;
    let day = 0;
    let hour = 0;
    let minute = 0;
    let sec = 0;
    for (const part of this.#format.formatToParts(second)) {
      switch (part.type) {
        case 'year':
          year = Number(part.value);
          break;
        case 'month':
          month = Number(part.value);
          break;
        case 'day':
          day = Number(part.value);
          break;
        case 'hour':
          hour = Number(part.value) % 24;
          break;
        case 'minute':
          minute = Number(part.value);
          break;
        case 'second':
          sec = Number(part.value);
          break;
        default:
          break;
      }
    }
    const local = new Date(0);
    local.setUTCFullYear(year, month - 1, day);
    local.setUTCHours(hour, minute, sec, 0);
    return local.getTime() - second;
  }

  /** Local minus UTC at `time`, in ms. */
  offsetAt(time: number): number {
    if (this.#format === undefined) return 0;
    this.#cover(time);
    const index = this.#lastTransitionAtOrBefore(time);
    return index === -1 ? this.#baseOffset : this.#offsets[index]!;
  }

  /** The stretch of constant offset that contains `time`. */
  segmentAt(time: number): OffsetSegment {
    if (this.#format === undefined) {
      return { start: -Infinity, end: Infinity, pseudoEnd: false, offset: 0, previousOffset: 0 };
    }
    this.#cover(time);
    if (this.#to - time < PROBE_STEP) this.#cover(time + PROBE_STEP);
    const index = this.#lastTransitionAtOrBefore(time);
    const offset = index === -1 ? this.#baseOffset : this.#offsets[index]!;
    const start = index === -1 ? -Infinity : this.#transitions[index]!;
    const previousOffset =
      index === -1 ? offset : index === 0 ? this.#baseOffset : this.#offsets[index - 1]!;
    const next = this.#transitions[index + 1];
    return next === undefined
      ? { start, end: this.#to, pseudoEnd: true, offset, previousOffset }
      : { start, end: next, pseudoEnd: false, offset, previousOffset };
  }

  #lastTransitionAtOrBefore(time: number): number {
    const transitions = this.#transitions;
    let low = 0;
    let high = transitions.length - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      if (transitions[middle]! <= time) {
        found = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return found;
  }

  /** Makes sure `[time, time + PROBE_STEP]` lies inside the scanned range. */
  #cover(time: number): void {
    if (!this.#scanned) {
      this.#from = Math.floor((time - 2 * DAY) / HOUR) * HOUR;
      this.#to = this.#from;
      this.#baseOffset = this.probe(this.#from);
      this.#scanned = true;
      this.#scanForward(time + SCAN_CHUNK);
      return;
    }
    if (time < this.#from) {
      // Rare (a `from` in the past): scan again from further back, keeping what is known beyond.
      const to = this.#to;
      this.#scanned = false;
      this.#transitions = [];
      this.#offsets = [];
      this.#cover(time);
      if (this.#to < to) this.#scanForward(to);
      return;
    }
    if (time >= this.#to) this.#scanForward(time + SCAN_CHUNK);
  }

  #scanForward(until: number): void {
    let previous = this.#to;
    let previousOffset = this.#offsets.length > 0 ? this.#offsets[this.#offsets.length - 1]! : this.#baseOffset;
    while (previous < until) {
      const next = previous + PROBE_STEP;
      const offset = this.probe(next);
      if (offset !== previousOffset) {
        this.#transitions.push(this.#findTransition(previous, next, previousOffset));
        this.#offsets.push(offset);
        previousOffset = offset;
      }
      previous = next;
    }
    this.#to = previous;
  }

  /** The first whole second in `(low, high]` whose offset is not `offsetBefore`. */
  #findTransition(low: number, high: number, offsetBefore: number): number {
    let lowSecond = Math.floor(low / 1000);
    let highSecond = Math.floor(high / 1000);
    while (highSecond - lowSecond > 1) {
      const middle = Math.floor((lowSecond + highSecond) / 2);
      if (this.probe(middle * 1000) === offsetBefore) lowSecond = middle;
      else highSecond = middle;
    }
    return highSecond * 1000;
  }
}

const zones = new Map<string, TimeZone>();

/** The process's own zone, as cron uses by default. */
export function localTimeZoneName(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/**
 * The zone of that name, shared by every schedule that uses it. Returns
 * `undefined` for a name `Intl` does not know.
 */
export function getTimeZone(name: string): TimeZone | undefined {
  const cached = zones.get(name);
  if (cached !== undefined) return cached;
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    return undefined;
  }
  const canonical = format.resolvedOptions().timeZone;
  const isUtc = canonical === 'UTC' || canonical === 'Etc/UTC' || canonical === 'Etc/GMT' || canonical === 'GMT';
  const zone = new TimeZone(name, isUtc ? undefined : format);
  zones.set(name, zone);
  return zone;
}
