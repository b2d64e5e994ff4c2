import { Task, TaskManager } from '@taskbuffer/core';
import { describe, expect, it } from 'vitest';
import { TaskConstraintGroup } from './constraint-group.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// The same behaviour as the fake-timer tests, on the real clock, with generous tolerances.
describe('TaskManager with TaskConstraintGroup, in real time', () => {
  describe('triggerTaskConstrained', () => {
    it('starts the next run on a key once the cooldown after the last run has passed', async () => {
      const manager = new TaskManager();
      manager.addConstraintGroup(
        new TaskConstraintGroup({ name: 'rate', maxConcurrent: 1, cooldownMs: 40, constraintKeyForExecution: () => 'k' }),
      );
      const starts: number[] = [];
      const ends: number[] = [];
      const task = new Task({
        name: 'call',
        taskFunction: async () => {
          starts.push(performance.now());
          await sleep(5);
          ends.push(performance.now());
        },
      });
      await Promise.all([1, 2, 3].map((input) => manager.triggerTaskConstrained(task, input)));
      expect(starts).toHaveLength(3);
      for (let index = 1; index < 3; index++) {
        const gap = starts[index]! - ends[index - 1]!;
        // Date.now has whole milliseconds: allow one below.
        expect(gap).toBeGreaterThanOrEqual(39);
        expect(gap).toBeLessThan(40 + 250);
      }
    });

    it('never runs two triggers of one key at once while others run in parallel', async () => {
      const manager = new TaskManager();
      manager.addConstraintGroup(
        new TaskConstraintGroup({
          name: 'per-key',
          maxConcurrent: 1,
          constraintKeyForExecution: (_task, input?: number) => `k${(input ?? 0) % 3}`,
        }),
      );
      const running = new Map<string, number>();
      let overlap = 0;
      let parallel = 0;
      let maxParallel = 0;
      const task = new Task({
        name: 'work',
        taskFunction: async (input: number) => {
          const key = `k${input % 3}`;
          running.set(key, (running.get(key) ?? 0) + 1);
          if (running.get(key)! > 1) overlap++;
          maxParallel = Math.max(maxParallel, ++parallel);
          await sleep(3);
          parallel--;
          running.set(key, running.get(key)! - 1);
          return input;
        },
      });
      const results = await Promise.all(Array.from({ length: 15 }, (_, input) => manager.triggerTaskConstrained(task, input)));
      expect(results).toEqual(Array.from({ length: 15 }, (_, input) => input));
      expect(overlap).toBe(0);
      expect(maxParallel).toBe(3);
    });
  });
});
