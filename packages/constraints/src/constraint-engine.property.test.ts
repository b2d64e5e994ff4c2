import { Task, TaskCancelledError, TaskManager } from '@taskbuffer/core';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TaskConstraintGroup } from './constraint-group.js';

interface GroupSpec {
  maxConcurrent: number;
  cooldownMs: number;
}

interface TriggerSpec {
  /** One key index per group, or null to be exempt from it. */
  keys: Array<number | null>;
  durationMs: number;
  fail: boolean;
  /** Declined by group 0's `shouldExecute`. */
  skip: boolean;
  /** Whether that `shouldExecute` answers with a promise. */
  asyncCheck: boolean;
  atMs: number;
}

const groupArbitrary: fc.Arbitrary<GroupSpec> = fc.record({
  maxConcurrent: fc.constantFrom(1, 1, 2, 3, Infinity),
  cooldownMs: fc.constantFrom(0, 0, 5, 20),
});

const triggerArbitrary: fc.Arbitrary<TriggerSpec> = fc.record({
  keys: fc.array(fc.option(fc.integer({ min: 0, max: 2 }), { nil: null, freq: 4 }), { minLength: 3, maxLength: 3 }),
  durationMs: fc.constantFrom(0, 1, 3, 10, 25),
  fail: fc.boolean(),
  skip: fc.boolean(),
  asyncCheck: fc.boolean(),
  atMs: fc.constantFrom(0, 0, 0, 2, 7, 30),
});

const scenarioArbitrary = fc.record({
  groups: fc.array(groupArbitrary, { minLength: 1, maxLength: 3 }),
  triggers: fc.array(triggerArbitrary, { minLength: 1, maxLength: 25 }),
  /** When to call `manager.stop()`, if at all. */
  stopAtMs: fc.option(fc.constantFrom(1, 5, 20), { nil: undefined, freq: 3 }),
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The keys a trigger holds, as `group:key` strings. */
function keysOf(trigger: TriggerSpec, groupCount: number): string[] {
  const keys: string[] = [];
  for (let group = 0; group < groupCount; group++) {
    const key = trigger.keys[group];
    if (key !== null && key !== undefined) keys.push(`${group}:${key}`);
  }
  return keys;
}

async function runScenario(groups: GroupSpec[], triggers: TriggerSpec[], stopAtMs: number | undefined): Promise<void> {
  const manager = new TaskManager();
  const turnOrder: number[] = [];
  const constraintGroups = groups.map(
    (spec, index) =>
      new TaskConstraintGroup({
        name: `g${index}`,
        maxConcurrent: spec.maxConcurrent,
        cooldownMs: spec.cooldownMs,
        constraintKeyForExecution: (_task, input?: number) => {
          const key = triggers[input!]!.keys[index];
          return key === null || key === undefined ? null : String(key);
        },
        // Every trigger that gets its turn is asked here first, so this records the turn order.
        shouldExecute:
          index === 0
            ? (_task, input?: number) => {
                turnOrder.push(input!);
                checkCooldowns(input!);
                const verdict = !triggers[input!]!.skip;
                return triggers[input!]!.asyncCheck ? sleep(1).then(() => verdict) : verdict;
              }
            : undefined,
      }),
  );
  for (const group of constraintGroups) manager.addConstraintGroup(group);

  const running = new Map<string, number>();
  const lastEnd = new Map<string, number>();
  // A trigger's turn (its slots taken, `shouldExecute` asked) is when the cooldown must have passed.
  const checkCooldowns = (input: number) => {
    const now = Date.now();
    for (const key of keysOf(triggers[input]!, groups.length)) {
      const group = groups[Number(key.split(':')[0])]!;
      const ended = lastEnd.get(key);
      if (ended !== undefined && now - ended < group.cooldownMs) {
        violations.push(`${key} had a turn ${now - ended} ms after the last end (cooldown ${group.cooldownMs})`);
      }
    }
  };
  const startOrder: number[] = [];
  const violations: string[] = [];
  const task = new Task({
    name: 'random',
    taskFunction: async (input: number) => {
      const trigger = triggers[input]!;
      const keys = keysOf(trigger, groups.length);
      startOrder.push(input);
      for (const key of keys) {
        const group = groups[Number(key.split(':')[0])]!;
        const count = (running.get(key) ?? 0) + 1;
        running.set(key, count);
        if (count > group.maxConcurrent) violations.push(`${key} ran ${count} at once (max ${group.maxConcurrent})`);
      }
      if (trigger.durationMs > 0) await sleep(trigger.durationMs);
      else await null;
      for (const key of keys) {
        running.set(key, running.get(key)! - 1);
        lastEnd.set(key, Date.now());
      }
      if (trigger.fail) throw new Error(`trigger ${input} failed`);
      return input;
    },
  });

  let settled = 0;
  const outcomes: Array<Promise<void>> = [];
  const triggerOrder: number[] = [];
  for (const [index, trigger] of triggers.entries()) {
    setTimeout(() => {
      triggerOrder.push(index);
      outcomes.push(
        manager.triggerTaskConstrained(task, index).then(
          (value) => {
            settled++;
            const expected = trigger.skip ? undefined : index;
            if (value !== expected) violations.push(`trigger ${index} resolved with ${String(value)}`);
          },
          (error: Error) => {
            settled++;
            if (error instanceof TaskCancelledError && stopAtMs !== undefined && !turnOrder.includes(index)) return;
            if (!trigger.fail || error.message !== `trigger ${index} failed`) violations.push(`trigger ${index}: ${error.message}`);
          },
        ),
      );
    }, trigger.atMs);
  }
  if (stopAtMs !== undefined) setTimeout(() => void manager.stop(), stopAtMs);
  await vi.runAllTimersAsync();
  await Promise.all(outcomes);

  expect(violations).toEqual([]);
  expect(settled).toBe(triggers.length);
  expect(vi.getTimerCount()).toBe(0);
  // A trigger never starts before an older one that waits for a subset of its keys
  // (in particular: triggers with the same keys start in trigger order).
  const turnIndex = new Map(turnOrder.map((input, position) => [input, position]));
  const hadTurn = triggerOrder.filter((input) => turnIndex.has(input));
  if (stopAtMs === undefined) expect(hadTurn).toHaveLength(triggers.length);
  // Exactly the triggers that had their turn and were not declined ran, each once.
  expect([...startOrder].sort((a, b) => a - b)).toEqual(
    turnOrder.filter((input) => !triggers[input]!.skip).sort((a, b) => a - b),
  );
  for (let older = 0; older < hadTurn.length; older++) {
    const olderKeys = keysOf(triggers[hadTurn[older]!]!, groups.length);
    for (let younger = older + 1; younger < hadTurn.length; younger++) {
      const youngerKeys = new Set(keysOf(triggers[hadTurn[younger]!]!, groups.length));
      if (olderKeys.length === 0 || !olderKeys.every((key) => youngerKeys.has(key))) continue;
      expect(turnIndex.get(hadTurn[older]!)).toBeLessThan(turnIndex.get(hadTurn[younger]!)!);
    }
  }
  for (const group of constraintGroups) {
    for (const key of group.getSnapshot().keys) {
      expect(key.running).toBe(0);
      expect(key.queued).toBe(0);
    }
  }
}

describe('TaskConstraintGroup', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  describe('with random groups, keys, durations and failures', () => {
    it('never exceeds a cap, keeps cooldown gaps and key order, skips what shouldExecute declines, and settles every trigger', async () => {
      await fc.assert(
        fc.asyncProperty(scenarioArbitrary, async ({ groups, triggers, stopAtMs }) => {
          vi.clearAllTimers();
          await runScenario(groups, triggers, stopAtMs);
        }),
        { numRuns: 300 },
      );
    });
  });
});
