import {
  type ConstraintEngineHost,
  type ConstraintEnginePort,
  type ConstraintGroupPort,
  type ConstraintGroupSnapshot,
  type ConstraintKeySnapshot,
  type Task,
  invalidOption,
} from '@taskbuffer/core';
import { ConstraintEngine, groupCores } from './constraint-engine.js';
import { GroupCore, type KeyFunction, type ShouldExecuteFunction, releaseSlots } from './key-state.js';

/** Options of `new TaskConstraintGroup()`. */
export interface ITaskConstraintGroupOptions<TData extends object = Record<string, any>> {
  /** Identifies the group; a manager holds at most one group per name. */
  name: string;
  /**
   * The key a trigger counts against, from the task and the trigger's input,
   * or `null` (or `undefined`) to exempt the trigger from this group. Called
   * once per trigger, when it is made.
   * @example (task, input?: string) => task.data.domain ?? null
   */
  constraintKeyForExecution: (task: Task<any, any, TData, any>, input?: any) => string | null | undefined;
  /**
   * How many runs may hold the same key at once.
   * @default Infinity
   */
  maxConcurrent?: number;
  /**
   * After a run on a key ends, the next run on that key starts no sooner than
   * this many ms later. Skipped triggers do not start a cooldown.
   * @default 0
   */
  cooldownMs?: number;
  /**
   * Asked right before a trigger runs, once its slots are held (also for
   * triggers that were never queued and for exempt ones). Return `false` (or a
   * promise of it) to skip the run: the trigger resolves with `undefined`.
   * With several groups, every `shouldExecute` must return `true`.
   */
  shouldExecute?: (task: Task<any, any, TData, any>, input?: any) => boolean | Promise<boolean>;
}

/**
 * A named constraint on how tasks run relative to each other: at most
 * `maxConcurrent` runs per key, `cooldownMs` between the end of one run and
 * the start of the next on a key, and an optional `shouldExecute` check.
 * Add it to a manager with `manager.addConstraintGroup(group)`.
 *
 * @typeParam TData - the `data` of the tasks it constrains
 */
export class TaskConstraintGroup<TData extends object = Record<string, any>> implements ConstraintGroupPort {
  readonly name: string;
  readonly maxConcurrent: number;
  readonly cooldownMs: number;
  readonly constraintKeyForExecution: ITaskConstraintGroupOptions<TData>['constraintKeyForExecution'];
  readonly shouldExecute: ITaskConstraintGroupOptions<TData>['shouldExecute'];
  readonly #core: GroupCore;

  constructor(options: ITaskConstraintGroupOptions<TData>) {
    if (typeof options !== 'object' || options === null) {
      invalidOption('options', 'an object with `name` and `constraintKeyForExecution`', options);
    }
    const { name, constraintKeyForExecution, shouldExecute, maxConcurrent = Infinity, cooldownMs = 0 } = options;
    if (typeof name !== 'string' || name === '') invalidOption('name', 'a non-empty string', name);
    if (typeof constraintKeyForExecution !== 'function') {
      invalidOption('constraintKeyForExecution', 'a function', constraintKeyForExecution);
    }
    if (
      typeof maxConcurrent !== 'number' ||
      !(maxConcurrent >= 1) ||
      (!Number.isInteger(maxConcurrent) && maxConcurrent !== Infinity)
    ) {
      invalidOption('maxConcurrent', 'a positive integer or Infinity', maxConcurrent);
    }
    if (typeof cooldownMs !== 'number' || !(cooldownMs >= 0) || !Number.isFinite(cooldownMs)) {
      invalidOption('cooldownMs', 'a non-negative finite number of milliseconds', cooldownMs);
    }
    if (shouldExecute !== undefined && typeof shouldExecute !== 'function') {
      invalidOption('shouldExecute', 'a function', shouldExecute);
    }
    this.name = name;
    this.maxConcurrent = maxConcurrent;
    this.cooldownMs = cooldownMs;
    this.constraintKeyForExecution = constraintKeyForExecution;
    this.shouldExecute = shouldExecute;
    this.#core = new GroupCore(
      name,
      maxConcurrent,
      cooldownMs,
      constraintKeyForExecution as KeyFunction,
      shouldExecute as ShouldExecuteFunction | undefined,
    );
    groupCores.set(this, this.#core);
  }

  /** @internal Called by `TaskManager` for the first group it is given; the engine serves all of its groups. */
  createConstraintEngine(host: ConstraintEngineHost): ConstraintEnginePort {
    return new ConstraintEngine(host);
  }

  /** The key of a task and input in this group, or `null` when the group does not apply. */
  getConstraintKey(task: Task<any, any, TData, any>, input?: any): string | null {
    return this.#core.keyOf(task, input);
  }

  /** Runs `shouldExecute` (`true` when there is none). */
  async checkShouldExecute(task: Task<any, any, TData, any>, input?: any): Promise<boolean> {
    if (this.shouldExecute === undefined) return true;
    return Boolean(await this.shouldExecute(task, input));
  }

  /** Whether a run on `key` could start now: a free slot and no cooldown. */
  canRun(key: string): boolean {
    const state = this.#core.keys.get(key);
    if (state === undefined) return true;
    return state.running < this.maxConcurrent && !state.isCooling(this.#core.clock.now());
  }

  /**
   * Takes a slot of `key`, as a run does. Pair it with `releaseSlot(key)`.
   * Check `canRun(key)` first: this does not wait and does not refuse.
   */
  acquireSlot(key: string): void {
    const state = this.#core.stateFor(key);
    state.running++;
    state.users++;
  }

  /** Gives back a slot of `key`, records the end of a run (the cooldown starts) and wakes what waits for the key. */
  releaseSlot(key: string): void {
    const state = this.#core.keys.get(key);
    if (state === undefined || state.running === 0) return;
    releaseSlots([state], Number.POSITIVE_INFINITY, true);
  }

  /** Milliseconds until `key` may start another run; 0 when it may now. */
  getCooldownRemaining(key: string): number {
    const state = this.#core.keys.get(key);
    return state === undefined ? 0 : this.#core.cooldownRemaining(state, this.#core.clock.now());
  }

  /** How many runs hold a slot of `key`. */
  getRunningCount(key: string): number {
    return this.#core.keys.get(key)?.running ?? 0;
  }

  /**
   * Forgets every running slot and cooldown. Runs in progress keep running
   * (their later release is not counted twice); queued triggers stay queued and
   * are looked at again at once.
   */
  reset(): void {
    this.#core.reset();
  }

  /** Every key that is running, queued or cooling down, for dashboards. */
  getSnapshot(): ConstraintGroupSnapshot {
    const core = this.#core;
    const now = core.clock.now();
    const keys: ConstraintKeySnapshot[] = [];
    for (const state of core.keys.values()) {
      const cooldownRemainingMs = core.cooldownRemaining(state, now);
      if (state.running === 0 && state.queued === 0 && cooldownRemainingMs === 0) continue;
      keys.push({ key: state.key, running: state.running, queued: state.queued, cooldownRemainingMs });
    }
    return { name: this.name, maxConcurrent: this.maxConcurrent, cooldownMs: this.cooldownMs, keys };
  }
}
