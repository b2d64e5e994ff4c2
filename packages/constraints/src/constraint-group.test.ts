import { Task, TaskManager } from '@taskbuffer/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TaskConstraintGroup } from './constraint-group.js';
import { ConstraintCallbackError } from './errors.js';

const anyKey = () => 'all';
const task = (data: Record<string, unknown> = {}) => new Task({ name: 't', data, taskFunction: async () => {} });

describe('TaskConstraintGroup', () => {
  describe('constructor', () => {
    it('fills in the defaults of the spec', () => {
      const group = new TaskConstraintGroup({ name: 'g', constraintKeyForExecution: anyKey });
      expect(group.name).toBe('g');
      expect(group.maxConcurrent).toBe(Infinity);
      expect(group.cooldownMs).toBe(0);
      expect(group.shouldExecute).toBeUndefined();
    });

    it('accepts Infinity and positive integers for maxConcurrent', () => {
      expect(new TaskConstraintGroup({ name: 'g', maxConcurrent: Infinity, constraintKeyForExecution: anyKey }).maxConcurrent).toBe(Infinity);
      expect(new TaskConstraintGroup({ name: 'g', maxConcurrent: 3, constraintKeyForExecution: anyKey }).maxConcurrent).toBe(3);
    });

    it('names maxConcurrent in the TypeError for a value that is not a positive integer or Infinity', () => {
      const make = (maxConcurrent: unknown) => () =>
        new TaskConstraintGroup({ name: 'g', maxConcurrent: maxConcurrent as number, constraintKeyForExecution: anyKey });
      expect(make(0)).toThrow(new TypeError('Expected `maxConcurrent` to be a positive integer or Infinity, got `0` (number)'));
      expect(make(1.5)).toThrow(TypeError);
      expect(make(-1)).toThrow(/`maxConcurrent`/);
      expect(make(Number.NaN)).toThrow(/`maxConcurrent`/);
      expect(make(-Infinity)).toThrow(/`maxConcurrent`/);
      expect(make('2')).toThrow(/`maxConcurrent`.*`"2"` \(string\)/);
    });

    it('names cooldownMs in the TypeError for a negative or non-finite value', () => {
      const make = (cooldownMs: unknown) => () =>
        new TaskConstraintGroup({ name: 'g', cooldownMs: cooldownMs as number, constraintKeyForExecution: anyKey });
      expect(make(-1)).toThrow(
        new TypeError('Expected `cooldownMs` to be a non-negative finite number of milliseconds, got `-1` (number)'),
      );
      expect(make(Infinity)).toThrow(/`cooldownMs`/);
      expect(make(Number.NaN)).toThrow(/`cooldownMs`/);
      expect(make(0)).not.toThrow();
    });

    it('requires a name and a constraintKeyForExecution', () => {
      expect(() => new TaskConstraintGroup({ constraintKeyForExecution: anyKey } as never)).toThrow(
        new TypeError('Expected `name` to be a non-empty string, got `undefined`'),
      );
      expect(() => new TaskConstraintGroup({ name: '', constraintKeyForExecution: anyKey })).toThrow(/`name`/);
      expect(() => new TaskConstraintGroup({ name: 'g' } as never)).toThrow(
        new TypeError('Expected `constraintKeyForExecution` to be a function, got `undefined`'),
      );
      expect(() => new TaskConstraintGroup(undefined as never)).toThrow(/`options`/);
    });

    it('rejects a shouldExecute that is not a function', () => {
      expect(
        () => new TaskConstraintGroup({ name: 'g', constraintKeyForExecution: anyKey, shouldExecute: true as never }),
      ).toThrow(/`shouldExecute`/);
    });
  });

  describe('getConstraintKey', () => {
    it('passes the task and the input to constraintKeyForExecution', () => {
      const group = new TaskConstraintGroup<{ provider: string }>({
        name: 'provider-domain',
        maxConcurrent: 1,
        constraintKeyForExecution: (t, input?: string) => `${t.data.provider}:${input || 'default'}`,
      });
      const t = new Task<undefined, [], { provider: string }>({ name: 't', data: { provider: 'acme' }, taskFunction: async () => {} });
      expect(group.getConstraintKey(t, 'a.com')).toBe('acme:a.com');
      expect(group.getConstraintKey(t)).toBe('acme:default');
    });

    it('returns null for null and undefined keys and throws for other values', () => {
      const group = new TaskConstraintGroup({ name: 'g', constraintKeyForExecution: (_t, input?: unknown) => input as string });
      expect(group.getConstraintKey(task(), null)).toBeNull();
      expect(group.getConstraintKey(task(), undefined)).toBeNull();
      expect(() => group.getConstraintKey(task(), 42)).toThrow(
        new TypeError('Expected `constraintKeyForExecution` to return a string or null, got `42` (number)'),
      );
    });
    it('says so when the key function returns a Promise, and the trigger rejects holding no slot', async () => {
      const group = new TaskConstraintGroup({
        name: 'async-key',
        maxConcurrent: 1,
        // A common slip: an async key function.
        constraintKeyForExecution: (async () => 'k') as unknown as () => string,
      });
      expect(() => group.getConstraintKey(task())).toThrow(/got a Promise: .*may not be async/);
      const manager = new TaskManager();
      manager.addConstraintGroup(group);
      const error = await manager.triggerTask(task()).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ConstraintCallbackError);
      expect((error as Error).message).toMatch(/got a Promise/);
      expect(group.getRunningCount('k')).toBe(0);
    });
  });

  describe('checkShouldExecute', () => {
    it('is true without a shouldExecute', async () => {
      const group = new TaskConstraintGroup({ name: 'g', constraintKeyForExecution: anyKey });
      await expect(group.checkShouldExecute(task())).resolves.toBe(true);
    });

    it('passes task and input and awaits an async answer', async () => {
      const shouldExecute = vi.fn(async (_t: unknown, input?: string) => input !== 'skip');
      const group = new TaskConstraintGroup({ name: 'g', constraintKeyForExecution: anyKey, shouldExecute });
      const t = task();
      await expect(group.checkShouldExecute(t, 'skip')).resolves.toBe(false);
      await expect(group.checkShouldExecute(t, 'run')).resolves.toBe(true);
      expect(shouldExecute).toHaveBeenCalledWith(t, 'skip');
    });
  });

  describe('slots', () => {
    beforeEach(() => {
      vi.useFakeTimers();
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it('counts slots per key against maxConcurrent', () => {
      const group = new TaskConstraintGroup({ name: 'g', maxConcurrent: 2, constraintKeyForExecution: anyKey });
      expect(group.canRun('a')).toBe(true);
      group.acquireSlot('a');
      group.acquireSlot('a');
      expect(group.getRunningCount('a')).toBe(2);
      expect(group.canRun('a')).toBe(false);
      expect(group.canRun('b')).toBe(true);
      group.releaseSlot('a');
      expect(group.getRunningCount('a')).toBe(1);
      expect(group.canRun('a')).toBe(true);
    });

    it('starts the cooldown when a slot is released', () => {
      const group = new TaskConstraintGroup({ name: 'g', maxConcurrent: 1, cooldownMs: 1000, constraintKeyForExecution: anyKey });
      group.acquireSlot('a');
      expect(group.getCooldownRemaining('a')).toBe(0);
      group.releaseSlot('a');
      expect(group.getCooldownRemaining('a')).toBe(1000);
      expect(group.canRun('a')).toBe(false);
      vi.advanceTimersByTime(400);
      expect(group.getCooldownRemaining('a')).toBe(600);
      vi.advanceTimersByTime(600);
      expect(group.getCooldownRemaining('a')).toBe(0);
      expect(group.canRun('a')).toBe(true);
    });

    it('does nothing when releasing a key that holds no slot', () => {
      const group = new TaskConstraintGroup({ name: 'g', maxConcurrent: 1, cooldownMs: 1000, constraintKeyForExecution: anyKey });
      group.releaseSlot('never');
      expect(group.getRunningCount('never')).toBe(0);
      expect(group.getCooldownRemaining('never')).toBe(0);
    });

    it('reset clears running counts and cooldowns', () => {
      const group = new TaskConstraintGroup({ name: 'g', maxConcurrent: 1, cooldownMs: 1000, constraintKeyForExecution: anyKey });
      group.acquireSlot('a');
      group.acquireSlot('b');
      group.releaseSlot('b');
      group.reset();
      expect(group.getRunningCount('a')).toBe(0);
      expect(group.getCooldownRemaining('b')).toBe(0);
      expect(group.canRun('a')).toBe(true);
      expect(group.getSnapshot().keys).toEqual([]);
    });
  });

  describe('getSnapshot', () => {
    beforeEach(() => {
      vi.useFakeTimers();
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it('lists the keys that run, wait or cool down', async () => {
      const manager = new TaskManager();
      const group = new TaskConstraintGroup({
        name: 'per-domain',
        maxConcurrent: 1,
        cooldownMs: 100,
        constraintKeyForExecution: (_t, input?: string) => input ?? null,
      });
      manager.addConstraintGroup(group);
      const work = new Task({ name: 'work', taskFunction: (_input: string) => new Promise((resolve) => setTimeout(resolve, 50)) });
      const runs = [manager.triggerTask(work, 'a.com'), manager.triggerTask(work, 'a.com'), manager.triggerTask(work, 'b.com')];
      expect(group.getSnapshot()).toEqual({
        name: 'per-domain',
        maxConcurrent: 1,
        cooldownMs: 100,
        keys: [
          { key: 'a.com', running: 1, queued: 1, cooldownRemainingMs: 0 },
          { key: 'b.com', running: 1, queued: 0, cooldownRemainingMs: 0 },
        ],
      });
      await vi.advanceTimersByTimeAsync(60);
      expect(group.getSnapshot().keys).toEqual([
        { key: 'a.com', running: 0, queued: 1, cooldownRemainingMs: 90 },
        { key: 'b.com', running: 0, queued: 0, cooldownRemainingMs: 90 },
      ]);
      // a.com's second run starts when its cooldown ends (150 ms) and ends at 200 ms.
      await vi.advanceTimersByTimeAsync(140);
      await Promise.all(runs);
      expect(group.getSnapshot().keys).toEqual([{ key: 'a.com', running: 0, queued: 0, cooldownRemainingMs: 100 }]);
      // Nothing waits: the one timer left is the unref'd one that drops the key when it has cooled down.
      expect(vi.getTimerCount()).toBe(1);
      vi.advanceTimersByTime(100);
      expect(group.getSnapshot().keys).toEqual([]);
      expect(vi.getTimerCount()).toBe(0);
    });
  });
});
