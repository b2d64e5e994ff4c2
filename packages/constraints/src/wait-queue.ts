/** Anything a {@link WaitQueue} can order: lower `seq` means older. */
export interface Sequenced {
  readonly seq: number;
}

const COMPACT_AT = 1024;

/**
 * A queue that always yields its oldest item (lowest `seq`).
 *
 * Items arrive in two ways. New triggers are always younger than everything
 * already queued, so they go to the tail of a plain FIFO in O(1). A waiter that
 * moves here from another key may be older than some items: it goes to a small
 * binary heap instead, so it keeps its place by age in O(log m), where m is the
 * number of such waiters. The head is the older of the two heads.
 */
export class WaitQueue<T extends Sequenced> {
  #fifo: T[] = [];
  #head = 0;
  #heap: T[] = [];

  /** How many items are held (including any the owner has since given up on). */
  get size(): number {
    return this.#fifo.length - this.#head + this.#heap.length;
  }

  push(item: T): void {
    const fifo = this.#fifo;
    if (fifo.length === this.#head || fifo[fifo.length - 1]!.seq < item.seq) fifo.push(item);
    else this.#heapPush(item);
  }

  peek(): T | undefined {
    const first = this.#head < this.#fifo.length ? this.#fifo[this.#head] : undefined;
    const top = this.#heap[0];
    if (top === undefined) return first;
    if (first === undefined) return top;
    return top.seq < first.seq ? top : first;
  }

  shift(): T | undefined {
    const first = this.#head < this.#fifo.length ? this.#fifo[this.#head] : undefined;
    const top = this.#heap[0];
    if (top !== undefined && (first === undefined || top.seq < first.seq)) return this.#heapPop();
    if (first === undefined) return undefined;
    this.#fifo[this.#head] = undefined as unknown as T;
    this.#head++;
    if (this.#head === this.#fifo.length) {
      this.#fifo = [];
      this.#head = 0;
    } else if (this.#head >= COMPACT_AT && this.#head * 2 >= this.#fifo.length) {
      this.#fifo = this.#fifo.slice(this.#head);
      this.#head = 0;
    }
    return first;
  }

  /** Takes out every item that matches, in no particular order. O(size). */
  removeWhere(predicate: (item: T) => boolean): T[] {
    const removed: T[] = [];
    const fifo: T[] = [];
    for (let index = this.#head; index < this.#fifo.length; index++) {
      const item = this.#fifo[index]!;
      if (predicate(item)) removed.push(item);
      else fifo.push(item);
    }
    const heap = this.#heap;
    this.#fifo = fifo;
    this.#head = 0;
    this.#heap = [];
    for (const item of heap) {
      if (predicate(item)) removed.push(item);
      else this.#heapPush(item);
    }
    return removed;
  }

  /** Every item, in no particular order. */
  *[Symbol.iterator](): IterableIterator<T> {
    for (let index = this.#head; index < this.#fifo.length; index++) yield this.#fifo[index]!;
    yield* this.#heap;
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
