/** Anything a {@link WaitQueue} can order: lower `seq` means older. */
export interface Sequenced {
  readonly seq: number;
}

const INITIAL_CAPACITY = 16;
const SHRINK_ABOVE = 1024;

/**
 * A queue that always yields its oldest item (lowest `seq`).
 *
 * Items arrive in two ways. New triggers are always younger than everything
 * already queued, so they go to the tail of a ring buffer in O(1). A waiter
 * that moves here from another key may be older than some items: it goes to a
 * small binary heap instead, so it keeps its place by age in O(log m), where m
 * is the number of such waiters. The head is the older of the two heads.
 */
export class WaitQueue<T extends Sequenced> {
  #ring: Array<T | undefined> = new Array<T | undefined>(INITIAL_CAPACITY);
  #mask = INITIAL_CAPACITY - 1;
  #head = 0;
  #length = 0;
  #heap: T[] = [];

  /** How many items are held (including any the owner has since given up on). */
  get size(): number {
    return this.#length + this.#heap.length;
  }

  push(item: T): void {
    const length = this.#length;
    if (length > 0 && this.#ring[(this.#head + length - 1) & this.#mask]!.seq > item.seq) {
      this.#heapPush(item);
      return;
    }
    if (length > this.#mask) this.#grow();
    this.#ring[(this.#head + length) & this.#mask] = item;
    this.#length = length + 1;
  }

  peek(): T | undefined {
    const first = this.#length > 0 ? this.#ring[this.#head] : undefined;
    if (this.#heap.length === 0) return first;
    const top = this.#heap[0]!;
    return first === undefined || top.seq < first.seq ? top : first;
  }

  shift(): T | undefined {
    if (this.#heap.length > 0) {
      const top = this.#heap[0]!;
      const first = this.#length > 0 ? this.#ring[this.#head] : undefined;
      if (first === undefined || top.seq < first.seq) return this.#heapPop();
    }
    if (this.#length === 0) return undefined;
    const head = this.#head;
    const first = this.#ring[head];
    this.#ring[head] = undefined;
    this.#head = (head + 1) & this.#mask;
    // Give back the memory of a burst once it has drained.
    if (--this.#length === 0 && this.#mask >= SHRINK_ABOVE) {
      this.#ring = new Array<T | undefined>(INITIAL_CAPACITY);
      this.#mask = INITIAL_CAPACITY - 1;
      this.#head = 0;
    }
    return first;
  }

  /** Takes out every item that matches. O(size). */
  removeWhere(predicate: (item: T) => boolean): T[] {
    const removed: T[] = [];
    const kept: T[] = [];
    for (const item of this) (predicate(item) ? removed : kept).push(item);
    this.#ring = new Array<T | undefined>(INITIAL_CAPACITY);
    this.#mask = INITIAL_CAPACITY - 1;
    this.#head = 0;
    this.#length = 0;
    this.#heap = [];
    kept.sort((a, b) => a.seq - b.seq);
    for (const item of kept) this.push(item);
    return removed;
  }

  /** Every item, in no particular order. */
  *[Symbol.iterator](): IterableIterator<T> {
    for (let index = 0; index < this.#length; index++) yield this.#ring[(this.#head + index) & this.#mask]!;
    yield* this.#heap;
  }

  #grow(): void {
    const old = this.#ring;
    const capacity = old.length;
    const ring = new Array<T | undefined>(capacity * 2);
    for (let index = 0; index < this.#length; index++) ring[index] = old[(this.#head + index) & this.#mask];
    this.#ring = ring;
    this.#mask = capacity * 2 - 1;
    this.#head = 0;
  }

  #heapPush(item: T): void {
    const heap = this.#heap;
    let index = heap.push(item) - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (heap[parent]!.seq <= item.seq) break;
      heap[index] = heap[parent]!;
      index = parent;
    }
    heap[index] = item;
  }

  #heapPop(): T | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    let index = 0;
    const length = heap.length;
    for (;;) {
      const left = index * 2 + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && heap[right]!.seq < heap[left]!.seq ? right : left;
      if (heap[child]!.seq >= last.seq) break;
      heap[index] = heap[child]!;
      index = child;
    }
    heap[index] = last;
    return top;
  }
}
