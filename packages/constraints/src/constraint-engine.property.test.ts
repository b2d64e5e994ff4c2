import {
  type ConstraintEngineHost,
  Task,
  TaskAbortedError,
  TaskCancelledError,
  TaskManager,
  systemClock,
} from '@taskbuffer/core';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { groupCores } from './constraint-engine.js';
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

// ---------------------------------------------------------------------------
// Bounded waiting with one- and two-key triggers
// ---------------------------------------------------------------------------

interface FairTrigger {
  /** Per-tenant mutex key, or null to be exempt. */
  tenant: number | null;
  /** Whether the global cap applies. */
  global: boolean;
  durationMs: number;
  atMs: number;
  /** When its signal aborts, if ever: while it waits, runs, or after it ended. */
  abortAtMs: number | undefined;
}

const fairTriggerArbitrary: fc.Arbitrary<FairTrigger> = fc
  .record({
    kind: fc.constantFrom('tenant', 'global', 'both', 'both'),
    tenant: fc.integer({ min: 0, max: 2 }),
    durationMs: fc.constantFrom(1, 3, 10, 25),
    atMs: fc.constantFrom(0, 0, 0, 2, 7, 30),
    abortAtMs: fc.option(fc.constantFrom(0, 1, 5, 12, 40), { nil: undefined, freq: 4 }),
  })
  .map(({ kind, tenant, durationMs, atMs, abortAtMs }) => ({
    tenant: kind === 'global' ? null : tenant,
    global: kind !== 'tenant',
    durationMs,
    atMs,
    abortAtMs,
  }));

const fairScenarioArbitrary = fc.record({
  cap: fc.constantFrom(1, 1, 2, 3),
  triggers: fc.array(fairTriggerArbitrary, { minLength: 2, maxLength: 40 }),
});

/**
 * A per-tenant mutex and a global cap, driven through the engine port with a
 * small host. Checks, from the outside (`queued` events and run starts):
 * - once a trigger has waited on a key, no younger trigger takes a slot of
 *   that key that it needs, until it starts;
 * - a trigger comes back to a key it already waited on only when an older
 *   trigger took or claimed that key meanwhile (no ping-pong between keys);
 * - so it waits behind at most `maxConcurrent` younger runs per key visit;
 * - a trigger aborted while it waits never runs and leaves no slot behind.
 */
async function runFairScenario(cap: number, triggers: FairTrigger[]): Promise<void> {
  const keysOfFair = (trigger: FairTrigger): string[] => {
    const keys: string[] = [];
    if (trigger.tenant !== null) keys.push(`tenant:${trigger.tenant}`);
    if (trigger.global) keys.push('global:all');
    return keys;
  };
  const maxOf = (key: string) => (key.startsWith('global') ? cap : 1);
  const tenantGroup = new TaskConstraintGroup({
    name: 'tenant',
    maxConcurrent: 1,
    constraintKeyForExecution: (_task, input?: number) => {
      const tenant = triggers[input!]!.tenant;
      return tenant === null ? null : String(tenant);
    },
  });
  const globalGroup = new TaskConstraintGroup({
    name: 'global',
    maxConcurrent: cap,
    constraintKeyForExecution: (_task, input?: number) => (triggers[input!]!.global ? 'all' : null),
  });

  /** Trigger order (the engine's age order) of each trigger index. */
  const age = new Map<number, number>();
  const waiting = new Set<number>();
  const visits = new Map<number, Map<string, number>>();
  /** Older triggers that started on, or waited on, a key while a trigger waited. */
  const olderOnKey = new Map<number, Map<string, Set<number>>>();
  const waitedBehind = new Map<number, Set<number>>();
  const runningOn = new Map<string, Set<number>>();
  const violations: string[] = [];

  const noteOlder = (input: number, key: string) => {
    for (const other of waiting) {
      if (!(age.get(input)! < age.get(other)!)) continue;
      if (!keysOfFair(triggers[other]!).includes(key)) continue;
      let byKey = olderOnKey.get(other);
      if (byKey === undefined) olderOnKey.set(other, (byKey = new Map()));
      let set = byKey.get(key);
      if (set === undefined) byKey.set(key, (set = new Set()));
      set.add(input);
    }
  };

  const host: ConstraintEngineHost = {
    clock: systemClock,
    execute: (task, input, onFinished, options) => task.trigger(input, { onFinished, signal: options?.signal }),
    emit: (task, type, fields) => {
      if (type !== 'queued') return;
      const input = Number(task.name);
      const key = `${fields!.constraintGroup}:${fields!.constraintKey}`;
      let byKey = visits.get(input);
      if (byKey === undefined) visits.set(input, (byKey = new Map()));
      byKey.set(key, (byKey.get(key) ?? 0) + 1);
      let behind = waitedBehind.get(input);
      if (behind === undefined) waitedBehind.set(input, (behind = new Set()));
      for (const runner of runningOn.get(key) ?? []) if (age.get(runner)! > age.get(input)!) behind.add(runner);
      noteOlder(input, key);
    },
  };
  const aborted = new Set<number>();
  const run = async (input: number) => {
    const keys = keysOfFair(triggers[input]!);
    if (aborted.has(input)) violations.push(`${input} ran after its signal aborted while it waited`);
    waiting.delete(input);
    for (const key of keys) {
      const runners = runningOn.get(key) ?? new Set<number>();
      runningOn.set(key, runners);
      runners.add(input);
      // Older triggers still waiting that already waited on this key keep their claim on it.
      let claimed = 0;
      for (const other of waiting) {
        if (age.get(other)! < age.get(input)! && visits.get(other)?.has(key)) claimed++;
      }
      if (runners.size + claimed > maxOf(key)) {
        violations.push(`${input} took a slot of ${key} that ${claimed} older waiting trigger(s) had waited for`);
      }
    }
    for (const key of keys) noteOlder(input, key);
    await sleep(triggers[input]!.durationMs);
    for (const key of keys) runningOn.get(key)!.delete(input);
    return input;
  };
  // One task per trigger, named by its index, so an event names its trigger.
  const tasks = triggers.map((_, index) => new Task({ name: String(index), taskFunction: run }));
  const engine = tenantGroup.createConstraintEngine(host);
  engine.addGroup(tenantGroup);
  engine.addGroup(globalGroup);

  const outcomes: Array<Promise<unknown>> = [];
  let nextAge = 0;
  for (const [index, trigger] of triggers.entries()) {
    const controller = trigger.abortAtMs === undefined ? undefined : new AbortController();
    setTimeout(() => {
      age.set(index, nextAge++);
      waiting.add(index);
      outcomes.push(
        engine.run(tasks[index]!, index, controller && { signal: controller.signal }).then(
          (value) => {
            if (value !== index) violations.push(`${index} resolved with ${String(value)}`);
          },
          (error: Error) => {
            if (!(error instanceof TaskAbortedError) || controller?.signal.aborted !== true) {
              violations.push(`${index} rejected: ${error.message}`);
            }
          },
        ),
      );
    }, trigger.atMs);
    if (controller !== undefined) {
      setTimeout(() => {
        // A waiting trigger leaves the line now: it no longer claims a key.
        if (waiting.delete(index)) aborted.add(index);
        controller.abort();
      }, trigger.atMs + trigger.abortAtMs!);
    }
  }
  await vi.runAllTimersAsync();
  await Promise.all(outcomes);
  expect(outcomes).toHaveLength(triggers.length);
  expect(violations).toEqual([]);
  expect(vi.getTimerCount()).toBe(0);
  for (const group of [tenantGroup, globalGroup]) {
    expect(groupCores.get(group)!.keys.size).toBe(0);
  }
  for (const [index, trigger] of triggers.entries()) {
    let bound = 0;
    for (const key of keysOfFair(trigger)) {
      const count = visits.get(index)?.get(key) ?? 0;
      const older = olderOnKey.get(index)?.get(key)?.size ?? 0;
      expect(count, `visits of trigger ${index} to ${key}`).toBeLessThanOrEqual(1 + older);
      bound += maxOf(key) * Math.max(count, 1);
    }
    expect(waitedBehind.get(index)?.size ?? 0, `younger runs trigger ${index} waited behind`).toBeLessThanOrEqual(bound);
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
    }, 60_000);
  });

  describe('with a per-tenant mutex, a global cap and one- and two-key triggers', () => {
    it('lets no younger trigger take a key a waiting trigger has waited for, so every trigger waits behind a bounded number of younger ones', async () => {
      await fc.assert(
        fc.asyncProperty(fairScenarioArbitrary, async ({ cap, triggers }) => {
          vi.clearAllTimers();
          await runFairScenario(cap, triggers);
        }),
        { numRuns: 300 },
      );
    }, 60_000);
  });
});
