const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Offsets are probed this far apart; no zone changes its offset twice within it. */
const PROBE_STEP = 12 * HOUR;
/** Offsets are learnt in chunks of this length, each on its own, as they are needed. */
const CHUNK = 4 * DAY;
/**
 * How far back a segment's start is looked for: further back it no longer
 * matters to cron, as no clock was ever set back by more than a day (Alaska, 1867).
 */
const LOOKBACK = DAY + HOUR;
/** The last instant a `Date` can hold. */
const MAX_TIME = 8.64e15;
/** Chunks kept per zone; beyond it the cache starts over (a few hundred bytes each). */
const CHUNK_LIMIT = 20_000;

/** A stretch of time with one UTC offset. */
export interface OffsetSegment {
  /** The transition that began the stretch; `-Infinity` when it lies more than 25 hours back. */
  start: number;
  /** The next transition, or the end of what has been learnt so far (`pseudoEnd`). */
  end: number;
  /** True when `end` is only the edge of what has been learnt, not a transition. */
  pseudoEnd: boolean;
  /** Local minus UTC, in ms. */
  offset: number;
  /** The offset before `start`; equal to `offset` when `start` is `-Infinity`. */
  previousOffset: number;
}

/** The offsets of one chunk `[index × CHUNK, (index + 1) × CHUNK)`. */
interface Chunk {
  /** The offset just before the chunk. */
  before: number;
  /** Transition instants inside the chunk, ascending. */
  transitions: number[];
  /** The offset that starts at the transition of the same index. */
  offsets: number[];
}

/**
 * The UTC offsets of one IANA zone, learnt from `Intl` a few days at a time,
 * only where they are asked for: a run decades ahead costs the few days
 * around it, not the years in between, and an earlier time than ever asked
 * costs the same as a later one. Looking up an offset already learnt is a
 * map look-up and a search among a chunk's (usually no) transitions.
 */
export class TimeZone {
  readonly name: string;
  readonly #format: Intl.DateTimeFormat | undefined;
  readonly #chunks = new Map<number, Chunk>();

  /**
   * `format` must show the offset as `timeZoneName: 'longOffset'` (`GMT+01:00`);
   * `undefined` for UTC.
   */
  constructor(name: string, format: Intl.DateTimeFormat | undefined) {
    this.name = name;
    this.#format = format;
  }

  /** Local minus UTC at `time`, in ms, asked of `Intl` directly. */
  probe(time: number): number {
    if (this.#format === undefined) return 0;
    // Outside the range of a `Date`, Intl throws; the offsets at its ends hold beyond them.
    const text = this.#format.format(Math.min(Math.max(time, -MAX_TIME), MAX_TIME));
    const match = /GMT(?:([+-])(\d\d):(\d\d)(?::(\d\d))?)?$/.exec(text);
    if (match === null) throw new Error(`Unexpected offset "${text}" for time zone ${this.name}`);
    if (match[1] === undefined) return 0;
    const offset = Number(match[2]) * HOUR + Number(match[3]) * 60_000 + Number(match[4] ?? 0) * 1000;
    return match[1] === '-' ? -offset : offset;
  }

  /** Local minus UTC at `time`, in ms. */
  offsetAt(time: number): number {
    if (this.#format === undefined) return 0;
    const chunk = this.#chunk(Math.floor(time / CHUNK));
    const index = lastAtOrBefore(chunk.transitions, time);
    return index === -1 ? chunk.before : chunk.offsets[index]!;
  }

  /** The stretch of constant offset that contains `time`. */
  segmentAt(time: number): OffsetSegment {
    if (this.#format === undefined) {
      return { start: -Infinity, end: Infinity, pseudoEnd: false, offset: 0, previousOffset: 0 };
    }
    const chunkIndex = Math.floor(time / CHUNK);
    const chunk = this.#chunk(chunkIndex);
    const index = lastAtOrBefore(chunk.transitions, time);
    const offset = index === -1 ? chunk.before : chunk.offsets[index]!;
    const next = chunk.transitions[index + 1];
    const end = next ?? (chunkIndex + 1) * CHUNK;
    const pseudoEnd = next === undefined;
    if (index !== -1) {
      const previousOffset = index === 0 ? chunk.before : chunk.offsets[index - 1]!;
      return { start: chunk.transitions[index]!, end, pseudoEnd, offset, previousOffset };
    }
    if (time - chunkIndex * CHUNK < LOOKBACK) {
      const previous = this.#chunk(chunkIndex - 1);
      const last = previous.transitions.length - 1;
      if (last !== -1) {
        const previousOffset = last === 0 ? previous.before : previous.offsets[last - 1]!;
        return { start: previous.transitions[last]!, end, pseudoEnd, offset, previousOffset };
      }
    }
    return { start: -Infinity, end, pseudoEnd, offset, previousOffset: offset };
  }

  #chunk(index: number): Chunk {
    let chunk = this.#chunks.get(index);
    if (chunk === undefined) {
      chunk = this.#scan(index);
      if (this.#chunks.size >= CHUNK_LIMIT) this.#chunks.clear();
      this.#chunks.set(index, chunk);
    }
    return chunk;
  }

  /** Probes one chunk every PROBE_STEP and finds each change of offset to the second. */
  #scan(index: number): Chunk {
    const start = index * CHUNK;
    const end = start + CHUNK;
    // The offset at `start - 1000`, where the previous chunk's last probe was, if it is known.
    const previousChunk = this.#chunks.get(index - 1);
    const before = previousChunk === undefined ? this.probe(start - 1000) : (previousChunk.offsets.at(-1) ?? previousChunk.before);
    const chunk: Chunk = { before, transitions: [], offsets: [] };
    let previous = start - 1000;
    let previousOffset = chunk.before;
    while (previous < end - 1000) {
      const next = Math.min(previous + PROBE_STEP, end - 1000);
      const offset = this.probe(next);
      if (offset !== previousOffset) {
        chunk.transitions.push(this.#findTransition(previous, next, previousOffset));
        chunk.offsets.push(offset);
        previousOffset = offset;
      }
      previous = next;
    }
    return chunk;
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

/** The index of the last of the ascending `times` at or before `time`, or -1. */
function lastAtOrBefore(times: readonly number[], time: number): number {
  let index = times.length - 1;
  while (index >= 0 && times[index]! > time) index--;
  return index;
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
  const zone = createTimeZone(name);
  if (zone !== undefined) zones.set(name, zone);
  return zone;
}

/** A new zone of that name that has learnt nothing yet, or `undefined` for a name `Intl` does not know. */
export function createTimeZone(name: string): TimeZone | undefined {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', { timeZone: name, timeZoneName: 'longOffset' });
  } catch {
    return undefined;
  }
  const canonical = format.resolvedOptions().timeZone;
  const isUtc = canonical === 'UTC' || canonical === 'Etc/UTC' || canonical === 'Etc/GMT' || canonical === 'GMT';
  return new TimeZone(name, isUtc ? undefined : format);
}
