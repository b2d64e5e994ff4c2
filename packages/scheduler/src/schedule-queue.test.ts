import { describe, expect, it } from 'vitest';
import { type QueueItem, ScheduleQueue } from './schedule-queue.js';

interface Item extends QueueItem {
  name: string;
}

const item = (name: string, nextRun: number): Item => ({ name, nextRun, queueIndex: -1 });
const names = (items: Item[]) => items.map((entry) => entry.name);

describe('ScheduleQueue', () => {
  describe('takeDue', () => {
    it('returns everything due, earliest instant first, and leaves the rest', () => {
      const queue = new ScheduleQueue<Item>();
      const items = [item('c', 30), item('a', 10), item('b', 20), item('a2', 10), item('d', 40)];
      for (const entry of items) queue.add(entry);
      expect(queue.size).toBe(5);
      expect(queue.nextTime()).toBe(10);
      expect(names(queue.takeDue(25))).toEqual(['a', 'a2', 'b']);
      expect(queue.size).toBe(2);
      expect(queue.nextTime()).toBe(30);
      expect(items.filter((entry) => entry.queueIndex === -1).map((entry) => entry.name).sort()).toEqual(['a', 'a2', 'b']);
      expect(queue.takeDue(29)).toEqual([]);
      expect(names(queue.takeDue(100))).toEqual(['c', 'd']);
      expect(queue.nextTime()).toBeUndefined();
      expect(queue.size).toBe(0);
    });
  });

  describe('remove', () => {
    it('removes from the middle of a bucket and forgets an emptied instant', () => {
      const queue = new ScheduleQueue<Item>();
      const [a, b, c, d] = [item('a', 10), item('b', 10), item('c', 10), item('d', 20)];
      for (const entry of [a!, b!, c!, d!]) queue.add(entry);
      expect(queue.remove(b!)).toBe(true);
      expect(queue.remove(b!)).toBe(false);
      expect(b!.queueIndex).toBe(-1);
      expect(queue.remove(a!)).toBe(true);
      expect(queue.remove(c!)).toBe(true);
      expect(queue.nextTime()).toBe(20);
      // The instant comes back with a new item, once.
      const e = item('e', 10);
      queue.add(e);
      expect(queue.nextTime()).toBe(10);
      expect(names(queue.takeDue(20))).toEqual(['e', 'd']);
      expect(queue.size).toBe(0);
    });
  });

  describe('rebuild', () => {
    it('replaces the content and keeps the order by instant', () => {
      const queue = new ScheduleQueue<Item>();
      const old = item('old', 5);
      queue.add(old);
      const fresh = Array.from({ length: 50 }, (_, index) => item(`i${index}`, ((index * 37) % 50) * 10));
      queue.rebuild(fresh);
      expect(old.queueIndex).toBe(-1);
      expect(queue.size).toBe(50);
      const times = queue.takeDue(Number.POSITIVE_INFINITY).map((entry) => entry.nextRun);
      expect(times).toEqual([...times].sort((x, y) => x - y));
      expect(times).toHaveLength(50);
    });
  });
});
