/** What the heap needs of an item: its due time and a slot for its position. */
export interface HeapItem {
  /** Epoch ms. */
  nextRun: number;
  /** Insertion order, to break ties so equal times run in the order they were scheduled. */
  sequence: number;
  /** Position in the heap; -1 when not in it. */
  heapIndex: number;
}

function before(a: HeapItem, b: HeapItem): boolean {
  return a.nextRun < b.nextRun || (a.nextRun === b.nextRun && a.sequence < b.sequence);
}

/** A binary min-heap of schedules by next run, with removal by reference. */
export class ScheduleHeap<T extends HeapItem> {
  readonly #items: T[] = [];

  get size(): number {
    return this.#items.length;
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  push(item: T): void {
    item.heapIndex = this.#items.length;
    this.#items.push(item);
    this.#up(item.heapIndex);
  }

  pop(): T | undefined {
    const top = this.#items[0];
    if (top !== undefined) this.remove(top);
    return top;
  }

  remove(item: T): boolean {
    const index = item.heapIndex;
    const items = this.#items;
    if (index < 0 || items[index] !== item) return false;
    const last = items.pop()!;
    item.heapIndex = -1;
    if (last !== item) {
      items[index] = last;
      last.heapIndex = index;
      this.#down(index);
      this.#up(last.heapIndex);
    }
    return true;
  }

  /** Rebuilds the heap from scratch in O(n), for many changed items at once. */
  rebuild(items: Iterable<T>): void {
    this.clear();
    for (const item of items) {
      item.heapIndex = this.#items.length;
      this.#items.push(item);
    }
    for (let index = (this.#items.length >>> 1) - 1; index >= 0; index--) this.#down(index);
  }

  clear(): void {
    for (const item of this.#items) item.heapIndex = -1;
    this.#items.length = 0;
  }

  #up(index: number): void {
    const items = this.#items;
    const item = items[index]!;
    while (index > 0) {
      const parentIndex = (index - 1) >>> 1;
      const parent = items[parentIndex]!;
      if (!before(item, parent)) break;
      items[index] = parent;
      parent.heapIndex = index;
      index = parentIndex;
    }
    items[index] = item;
    item.heapIndex = index;
  }

  #down(index: number): void {
    const items = this.#items;
    const length = items.length;
    const item = items[index]!;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && before(items[right]!, items[left]!) ? right : left;
      if (!before(items[child]!, item)) break;
      items[index] = items[child]!;
      items[index]!.heapIndex = index;
      index = child;
    }
    items[index] = item;
    item.heapIndex = index;
  }
}
