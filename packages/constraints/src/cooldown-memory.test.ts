import { setTimeout as sleep } from 'node:timers/promises';
import { type Clock, Task, TaskManager, systemClock } from '@taskbuffer/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { groupCores } from './constraint-engine.js';
import { TaskConstraintGroup } from './constraint-group.js';

const COOLDOWN_MS = 300;
const MiB = 2 ** 20;

/** This project runs with `--expose-gc` (see vitest.config.ts). */
const gc = (globalThis as { gc?: () => void }).gc;

async function heapUsed(): Promise<number> {
  for (let round = 0; round < 3; round++) {
    gc!();
    await sleep(0);
  }
  return process.memoryUsage().heapUsed;
}

function createSetup(clock?: Clock) {
  const manager = new TaskManager(clock === undefined ? {} : { clock });
  const group = new TaskConstraintGroup({
    name: 'per-request',
    maxConcurrent: 1,
    cooldownMs: COOLDOWN_MS,
    constraintKeyForExecution: (_task, input?: number) => `request-${input}`,
  });
  manager.addConstraintGroup(group);
  const task = new Task({ name: 'handle', taskFunction: async (input: number) => input });
  manager.addTask(task);
  const trigger = async (offset: number, count: number) => {
    const runs = new Array<Promise<unknown>>(count);
    for (let index = 0; index < count; index++) runs[index] = manager.triggerTaskConstrained(task, offset + index);
    await Promise.all(runs);
  };
  return { manager, group, trigger, keyCount: () => groupCores.get(group)!.keys.size };
}

describe('TaskConstraintGroup', () => {
  describe('with a cooldown and keys that never repeat', () => {
    describe('on fake timers', () => {
      beforeEach(() => {
        vi.useFakeTimers();
      });
      afterEach(() => {
        vi.useRealTimers();
      });

      it('drops every key once its cooldown has ended, with one unref’d timer', async () => {
        const unrefs: Array<boolean | undefined> = [];
        const clock: Clock = {
          now: () => systemClock.now(),
          setTimeout: (callback, delay, options) => {
            unrefs.push(options?.unref);
            return systemClock.setTimeout(callback, delay, options);
          },
          clearTimeout: (handle) => systemClock.clearTimeout(handle),
        };
        const { group, trigger, keyCount } = createSetup(clock);
        await trigger(0, 5_000);
        expect(keyCount()).toBe(5_000);
        expect(group.getCooldownRemaining('request-0')).toBe(COOLDOWN_MS);
        expect(vi.getTimerCount()).toBe(1);
        await vi.advanceTimersByTimeAsync(COOLDOWN_MS - 1);
        expect(keyCount()).toBe(5_000);
        await vi.advanceTimersByTimeAsync(1);
        expect(keyCount()).toBe(0);
        expect(vi.getTimerCount()).toBe(0);
        expect(unrefs).toEqual([true]);
      });

      it('keeps a key that is used again while it cools, and drops it after its new cooldown', async () => {
        const { group, trigger, keyCount } = createSetup();
        await trigger(0, 3);
        await vi.advanceTimersByTimeAsync(200);
        // Key 1 runs again when its cooldown ends, at 300 ms, and cools anew.
        const again = trigger(1, 1);
        await vi.advanceTimersByTimeAsync(100);
        await again;
        expect(keyCount()).toBe(1);
        expect(vi.getTimerCount()).toBe(1);
        expect(group.getCooldownRemaining('request-1')).toBe(COOLDOWN_MS);
        await vi.advanceTimersByTimeAsync(COOLDOWN_MS - 1);
        expect(keyCount()).toBe(1);
        await vi.advanceTimersByTimeAsync(1);
        expect(keyCount()).toBe(0);
        expect(vi.getTimerCount()).toBe(0);
      });

      it('keeps one timer when a key comes up for dropping just after it ran again', async () => {
        const { trigger, keyCount } = createSetup();
        await trigger(0, 1);
        await vi.advanceTimersByTimeAsync(100);
        await trigger(1, 1);
        await vi.advanceTimersByTimeAsync(50);
        // Key 1 cooled from 100 ms; this trigger waits for it until 400 ms.
        const again = trigger(1, 1);
        await vi.advanceTimersByTimeAsync(250);
        await again;
        // At 400 ms key 1 ran again and then came up for dropping: back in line, one timer.
        expect(keyCount()).toBe(1);
        expect(vi.getTimerCount()).toBe(1);
        await vi.advanceTimersByTimeAsync(COOLDOWN_MS);
        expect(keyCount()).toBe(0);
        expect(vi.getTimerCount()).toBe(0);
      });
    });

    describe('on the real clock, measuring the heap', () => {
      it.each(['running', 'stopped', 'without its group'] as const)(
        'gives back the memory of 200,000 keys once their cooldowns ended (manager %s)',
        async (mode) => {
          if (gc === undefined) throw new Error('This test needs --expose-gc (set by the project’s vitest.config.ts)');
          const { manager, group, trigger, keyCount } = createSetup();
          // A small warm-up round, so that compiled code and the like are in the baseline.
          await trigger(-2_000, 1_000);
          await sleep(COOLDOWN_MS + 50);
          const baseline = await heapUsed();
          await trigger(0, 200_000);
          const endedAt = Date.now();
          // On a loaded machine the first keys may have cooled down already.
          expect(keyCount()).toBeGreaterThan(0);
          if (mode === 'stopped') await manager.stop();
          if (mode === 'without its group') manager.removeConstraintGroup(group);
          await sleep(Math.max(0, endedAt + COOLDOWN_MS - Date.now()));
          // The last keys are dropped by a timer at the end of their cooldown: give it time on a busy machine.
          const deadline = Date.now() + 5_000;
          let after = await heapUsed();
          while (after - baseline > 2 * MiB && Date.now() < deadline) {
            await sleep(20);
            after = await heapUsed();
          }
          expect(keyCount()).toBe(0);
          expect((after - baseline) / MiB).toBeLessThan(2);
        },
        60_000,
      );
    });
  });
});
