import {
  type ConstraintEngineHost,
  type ConstraintEnginePort,
  type ITaskEvent,
  Task,
  TaskAbortedError,
  TaskManager,
  systemClock,
} from '@taskbuffer/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { groupCores } from './constraint-engine.js';
import { TaskConstraintGroup } from './constraint-group.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

type Input = { label: string; key?: string; other?: string; ms?: number };

/** An engine on a small host, as a manager would drive it, that records starts and events. */
function setup(options: { cooldownMs?: number; shouldExecute?: () => boolean | Promise<boolean> } = {}) {
  const starts: string[] = [];
  const events: Array<Pick<ITaskEvent, 'type' | 'constraintKey'> & { label?: string }> = [];
  const keyCalls: string[] = [];
  const primary = new TaskConstraintGroup({
    name: 'primary',
    maxConcurrent: 1,
    cooldownMs: options.cooldownMs ?? 0,
    constraintKeyForExecution: (_task, input?: Input) => {
      keyCalls.push(input!.label);
      return input?.key ?? null;
    },
    shouldExecute: options.shouldExecute,
  });
  const secondary = new TaskConstraintGroup({
    name: 'secondary',
    maxConcurrent: 1,
    constraintKeyForExecution: (_task, input?: Input) => input?.other ?? null,
  });
  const host: ConstraintEngineHost = {
    clock: systemClock,
    execute: (task, input, onFinished, executeOptions) => task.trigger(input, { onFinished, signal: executeOptions?.signal }),
    emit: (_task, type, fields) => events.push({ type, constraintKey: fields?.constraintKey }),
  };
  const engine: ConstraintEnginePort = primary.createConstraintEngine(host);
  engine.addGroup(primary);
  engine.addGroup(secondary);
  const runSignals = new Map<string, AbortSignal>();
  const task = new Task({
    name: 'work',
    taskFunction: async (input: Input, _setup: undefined, context) => {
      starts.push(input.label);
      runSignals.set(input.label, context.signal);
      await sleep(input.ms ?? 100);
      return input.label;
    },
  });
  const run = (input: Input, signal?: AbortSignal) => engine.run(task, input, signal === undefined ? undefined : { signal });
  return { engine, primary, secondary, run, starts, events, keyCalls, runSignals };
}

describe('ConstraintEngine', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  describe('run with a signal', () => {
    it('rejects at once for a signal aborted before, without computing keys, waiting or running', async () => {
      const { run, primary, starts, events, keyCalls } = setup();
      const controller = new AbortController();
      const reason = new Error('not needed any more');
      controller.abort(reason);
      const outcome = run({ label: 'late', key: 'k' }, controller.signal);
      await expect(outcome).rejects.toBeInstanceOf(TaskAbortedError);
      await expect(outcome).rejects.toMatchObject({ taskName: 'work', cause: reason });
      expect(keyCalls).toEqual([]);
      expect(events).toEqual([]);
      expect(primary.getSnapshot().keys).toEqual([]);
      await vi.runAllTimersAsync();
      expect(starts).toEqual([]);
    });

    it('takes an aborted waiting trigger out of line at once: no slot, no cooldown, the next one keeps its turn', async () => {
      const { run, primary, starts } = setup({ cooldownMs: 50 });
      const controller = new AbortController();
      const first = run({ label: 'first', key: 'k' });
      const aborted = run({ label: 'aborted', key: 'k' }, controller.signal);
      const third = run({ label: 'third', key: 'k' });
      expect(primary.getSnapshot().keys).toEqual([{ key: 'k', running: 1, queued: 2, cooldownRemainingMs: 0 }]);
      await vi.advanceTimersByTimeAsync(20);
      controller.abort('changed my mind');
      // Rejected at once, while "first" still runs.
      await expect(aborted).rejects.toMatchObject({ name: 'TaskAbortedError', cause: 'changed my mind' });
      expect(primary.getSnapshot().keys).toEqual([{ key: 'k', running: 1, queued: 1, cooldownRemainingMs: 0 }]);
      await vi.advanceTimersByTimeAsync(80);
      await expect(first).resolves.toBe('first');
      // The cooldown counts from the end of "first": "aborted" started none.
      await vi.advanceTimersByTimeAsync(49);
      expect(starts).toEqual(['first']);
      await vi.advanceTimersByTimeAsync(1);
      expect(starts).toEqual(['first', 'third']);
      await vi.advanceTimersByTimeAsync(100);
      await expect(third).resolves.toBe('third');
      expect(starts).not.toContain('aborted');
    });

    it('lets the next trigger start at once when the aborted one was all that held a free key back', async () => {
      const { run, starts } = setup();
      const controller = new AbortController();
      const holdsOther = run({ label: 'holds other', other: 'o', ms: 100 });
      const holdsKey = run({ label: 'holds key', key: 'k', ms: 10 });
      // Needs both keys: waits on "k", then keeps "k" reserved while it waits for "o".
      const both = run({ label: 'both', key: 'k', other: 'o' }, controller.signal);
      const younger = run({ label: 'younger', key: 'k', ms: 10 });
      await vi.advanceTimersByTimeAsync(10);
      expect(starts).toEqual(['holds other', 'holds key']);
      controller.abort();
      await expect(both).rejects.toBeInstanceOf(TaskAbortedError);
      expect(starts).toEqual(['holds other', 'holds key', 'younger']);
      await vi.runAllTimersAsync();
      await expect(Promise.all([holdsOther, holdsKey, younger])).resolves.toEqual(['holds other', 'holds key', 'younger']);
    });

    it('aborts the run’s signal when aborted while the run is under way, and frees the slot when the function returns', async () => {
      const { run, primary, runSignals } = setup();
      const controller = new AbortController();
      const running = run({ label: 'running', key: 'k' }, controller.signal);
      const next = run({ label: 'next', key: 'k' });
      await vi.advanceTimersByTimeAsync(10);
      controller.abort('stop it');
      expect(runSignals.get('running')!.aborted).toBe(true);
      await expect(running).rejects.toBeInstanceOf(TaskAbortedError);
      // The function has not returned yet: the slot is still held.
      expect(primary.getRunningCount('k')).toBe(1);
      await vi.advanceTimersByTimeAsync(90);
      expect(runSignals.has('next')).toBe(true);
      await vi.runAllTimersAsync();
      await expect(next).resolves.toBe('next');
    });

    it('rejects a trigger aborted while shouldExecute is asked, without running it or starting a cooldown', async () => {
      const controller = new AbortController();
      const { run, primary, starts } = setup({
        cooldownMs: 1000,
        shouldExecute: () => {
          controller.abort();
          return Promise.resolve(true);
        },
      });
      const outcome = run({ label: 'checked', key: 'k' }, controller.signal);
      await expect(outcome).rejects.toBeInstanceOf(TaskAbortedError);
      expect(starts).toEqual([]);
      expect(primary.getRunningCount('k')).toBe(0);
      expect(primary.getCooldownRemaining('k')).toBe(0);
    });

    it('adds one listener for any number of waiting triggers that share a signal, and removes it', async () => {
      const { run, primary } = setup();
      const controller = new AbortController();
      const added = vi.spyOn(controller.signal, 'addEventListener');
      const removed = vi.spyOn(controller.signal, 'removeEventListener');
      const warning = vi.spyOn(process, 'emitWarning');
      const first = run({ label: 'first', key: 'k', ms: 10 });
      const waiting = Array.from({ length: 50 }, (_, index) => run({ label: `w${index}`, key: 'k', ms: 1 }, controller.signal));
      expect(added).toHaveBeenCalledTimes(1);
      const listener = added.mock.calls[0]![1];
      await vi.runAllTimersAsync();
      await Promise.all([first, ...waiting]);
      // Every trigger ran (each run listens on its own while it runs); the
      // last one to leave the line took the engine's listener away.
      expect(removed.mock.calls.filter((call) => call[1] === listener)).toHaveLength(1);
      expect(added.mock.calls.filter((call) => call[1] === listener)).toHaveLength(1);
      expect(warning).not.toHaveBeenCalled();
      warning.mockRestore();
      expect(primary.getSnapshot().keys).toEqual([]);
    });

    it('rejects every waiting trigger of a shared signal, oldest first, and keeps the others', async () => {
      const { run, starts } = setup();
      const controller = new AbortController();
      const settled: string[] = [];
      const track = (label: string, promise: Promise<unknown>) =>
        promise.then(
          () => settled.push(`${label} ran`),
          () => settled.push(`${label} aborted`),
        );
      const all = [
        track('first', run({ label: 'first', key: 'k', ms: 10 })),
        track('a', run({ label: 'a', key: 'k', ms: 10 }, controller.signal)),
        track('b', run({ label: 'b', key: 'k', ms: 10 })),
        track('c', run({ label: 'c', key: 'k', ms: 10 }, controller.signal)),
      ];
      controller.abort();
      await vi.runAllTimersAsync();
      await Promise.all(all);
      expect(settled).toEqual(['a aborted', 'c aborted', 'first ran', 'b ran']);
      expect(starts).toEqual(['first', 'b']);
    });

    it('refuses a signal that is not an AbortSignal with a TypeError naming it, touching nothing', async () => {
      const { engine, primary, keyCalls } = setup();
      const task = new Task({ name: 'work', taskFunction: async () => 'ran' });
      await expect(engine.run(task, { label: 'x', key: 'k' }, { signal: {} as AbortSignal })).rejects.toThrow(
        new TypeError('Expected `signal` to be an AbortSignal, got `{}` (object)'),
      );
      expect(keyCalls).toEqual([]);
      expect(primary.getSnapshot().keys).toEqual([]);
      expect(groupCores.get(primary)!.keys.size).toBe(0);
    });
  });

  describe('with the host of a TaskManager', () => {
    it('passes the trigger’s signal to the run', async () => {
      const manager = new TaskManager();
      const group = new TaskConstraintGroup({ name: 'g', maxConcurrent: 1, constraintKeyForExecution: () => 'k' });
      const create = vi.spyOn(group, 'createConstraintEngine');
      manager.addConstraintGroup(group);
      const engine = create.mock.results[0]!.value as ConstraintEnginePort;
      let runSignal: AbortSignal | undefined;
      const task = new Task({
        name: 'work',
        taskFunction: async (_input: undefined, _setup: undefined, context) => {
          runSignal = context.signal;
          await sleep(100);
        },
      });
      const controller = new AbortController();
      const outcome = engine.run(task, undefined, { signal: controller.signal });
      controller.abort();
      await expect(outcome).rejects.toBeInstanceOf(TaskAbortedError);
      expect(runSignal?.aborted).toBe(true);
      await vi.runAllTimersAsync();
      expect(group.getRunningCount('k')).toBe(0);
    });
  });
});
