/** What the queue needs of an item: its due time and a slot for its position. */
export interface QueueItem {
  /** Epoch ms; must not change while the item is queued. */
  nextRun: number;
  /** Position in its bucket; -1 when not queued. */
  queueIndex: number;
}

/**
 * Schedules by next run. Items due at the same instant share one bucket (an
 * array), and only the distinct instants sit in a binary min-heap of plain
 * numbers. Many schedules on the same tick (every second, every five
 * minutes, on the hour) then cost one heap operation per tick, and a wake-up
 * walks one array instead of sifting each item through a heap of objects.
 */
export class ScheduleQueue<T extends QueueItem> {
  readonly #buckets = new Map<number, T[]>();
  /** Min-heap of instants; an instant whose bucket emptied stays until it surfaces. */
  readonly #times: number[] = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  add(item: T): void {
    const time = item.nextRun;
    const bucket = this.#buckets.get(time);
    this.#size++;
    if (bucket === undefined) {
      // A literal of one: most instants hold one schedule, and `[]` + push would reserve room for 17.
      item.queueIndex = 0;
      this.#buckets.set(time, [item]);
      this.#pushTime(time);
      return;
    }
    item.queueIndex = bucket.length;
    bucket.push(item);
  }

  remove(item: T): boolean {
    const index = item.queueIndex;
    if (index < 0) return false;
    const bucket = this.#buckets.get(item.nextRun);
    if (bucket === undefined || bucket[index] !== item) return false;
    const last = bucket.pop()!;
    if (last !== item) {
      bucket[index] = last;
      last.queueIndex = index;
    }
    item.queueIndex = -1;
    this.#size--;
    if (bucket.length === 0) this.#buckets.delete(item.nextRun);
    return true;
  }

  /** The earliest instant with a queued item. */
  nextTime(): number | undefined {
    const times = this.#times;
    while (times.length > 0 && !this.#buckets.has(times[0]!)) this.#popTime();
    return times[0];
  }

  /** Removes and returns every item due at or before `time`, earliest instant first. */
  takeDue(time: number): T[] {
    let due: T[] | undefined;
    const times = this.#times;
    while (times.length > 0 && times[0]! <= time) {
      const instant = this.#popTime();
      const bucket = this.#buckets.get(instant);
      if (bucket === undefined) continue;
      this.#buckets.delete(instant);
      this.#size -= bucket.length;
      for (const item of bucket) item.queueIndex = -1;
      if (due === undefined) due = bucket;
      else for (const item of bucket) due.push(item);
    }
    return due ?? [];
  }

  /** Empties the queue and fills it with `items`. */
  rebuild(items: Iterable<T>): void {
    this.clear();
    for (const item of items) {
      const bucket = this.#buckets.get(item.nextRun);
      this.#size++;
      if (bucket === undefined) {
        item.queueIndex = 0;
        this.#buckets.set(item.nextRun, [item]);
        this.#times.push(item.nextRun);
      } else {
        item.queueIndex = bucket.length;
        bucket.push(item);
      }
    }
    for (let index = (this.#times.length >>> 1) - 1; index >= 0; index--) this.#down(index);
  }

  clear(): void {
    for (const bucket of this.#buckets.values()) for (const item of bucket) item.queueIndex = -1;
    this.#buckets.clear();
    this.#times.length = 0;
    this.#size = 0;
  }

  #pushTime(time: number): void {
    const times = this.#times;
    let index = times.length;
    times.push(time);
    while (index > 0) {
      const parent = (index - 1) >>> 1;
      if (times[parent]! <= time) break;
      times[index] = times[parent]!;
      index = parent;
    }
    times[index] = time;
  }

  #popTime(): number {
    const times = this.#times;
    const top = times[0]!;
    const last = times.pop()!;
    if (times.length > 0) {
      times[0] = last;
      this.#down(0);
    }
    return top;
  }

  #down(index: number): void {
    const times = this.#times;
    const length = times.length;
    const time = times[index]!;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && times[right]! < times[left]! ? right : left;
      if (times[child]! >= time) break;
      times[index] = times[child]!;
      index = child;
    }
    times[index] = time;
  }
}
