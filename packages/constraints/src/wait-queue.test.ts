import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WaitQueue } from './wait-queue.js';

const item = (seq: number) => ({ seq });

describe('WaitQueue', () => {
  describe('shift', () => {
    it('yields new items first in, first out across growth and wrap-around', () => {
      const queue = new WaitQueue<{ seq: number }>();
      let next = 0;
      const out: number[] = [];
      for (let round = 0; round < 50; round++) {
        for (let count = 0; count < 37; count++) queue.push(item(next++));
        for (let count = 0; count < 30; count++) out.push(queue.shift()!.seq);
      }
      while (queue.size > 0) out.push(queue.shift()!.seq);
      expect(out).toEqual(Array.from({ length: next }, (_, index) => index));
      expect(queue.shift()).toBeUndefined();
      expect(queue.peek()).toBeUndefined();
    });

    it('puts an older item that arrives late in its place by age', () => {
      const queue = new WaitQueue<{ seq: number }>();
      for (const seq of [5, 7, 9]) queue.push(item(seq));
      queue.push(item(6));
      queue.push(item(1));
      queue.push(item(10));
      expect(queue.peek()?.seq).toBe(1);
      expect(Array.from({ length: 6 }, () => queue.shift()!.seq)).toEqual([1, 5, 6, 7, 9, 10]);
    });

    it('always yields the lowest seq, whatever the order of pushes and shifts', () => {
      fc.assert(
        fc.property(fc.array(fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.constant(-1)), { maxLength: 300 }), (operations) => {
          const queue = new WaitQueue<{ seq: number }>();
          const model: number[] = [];
          for (const operation of operations) {
            if (operation === -1) {
              model.sort((a, b) => a - b);
              expect(queue.shift()?.seq).toBe(model.shift());
            } else {
              queue.push(item(operation));
              model.push(operation);
            }
            expect(queue.size).toBe(model.length);
          }
        }),
      );
    });
  });

  describe('removeWhere', () => {
    it('takes out the matching items and keeps the order of the rest', () => {
      const queue = new WaitQueue<{ seq: number }>();
      for (const seq of [2, 4, 6, 8]) queue.push(item(seq));
      queue.push(item(3));
      expect(queue.removeWhere((entry) => entry.seq % 4 === 0).map((entry) => entry.seq).sort()).toEqual([4, 8]);
      expect([...queue].map((entry) => entry.seq).sort()).toEqual([2, 3, 6]);
      expect(Array.from({ length: 3 }, () => queue.shift()!.seq)).toEqual([2, 3, 6]);
    });
  });
});
