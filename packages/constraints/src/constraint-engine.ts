import {
  type ConstraintEngineHost,
  type ConstraintEnginePort,
  type ConstraintGroupPort,
  type AnyTask,
  TaskAbortedError,
  TaskCancelledError,
  invalidOption,
} from '@taskbuffer/core';
import { ConstraintCallbackError } from './errors.js';
import {
  ADMITTED,
  DONE,
  type GroupCore,
  type KeyState,
  QUEUED,
  Waiter,
  type WaiterOwner,
  currentEpoch,
  dropReservations,
  dropReservationsOf,
  isReservedAgainst,
  releaseSlots,
  reserve,
  scheduleDrain,
} from './key-state.js';

/** The internal state behind each `TaskConstraintGroup`, found by the group object. */
export const groupCores = new WeakMap<ConstraintGroupPort, GroupCore>();

const resolvedUndefined = Promise.resolve(undefined);
const noEntries: KeyState[] = [];

// One executor for every queued trigger's promise, instead of a closure each.
let capturedResolve: (value: unknown) => void = () => {};
function captureResolve(resolve: (value: unknown) => void): void {
  capturedResolve = resolve;
}

function ignore(): void {}

/** Rejects a waiter's promise through its resolve function. */
function rejectWaiter(waiter: Waiter, error: unknown): void {
  const rejected = Promise.reject(error);
  rejected.catch(ignore);
  waiter.resolve(rejected);
}

function isAbortSignal(value: unknown): value is AbortSignal {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AbortSignal).aborted === 'boolean' &&
    typeof (value as AbortSignal).addEventListener === 'function' &&
    typeof (value as AbortSignal).removeEventListener === 'function'
  );
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * Runs the triggers of one `TaskManager` through its constraint groups.
 *
 * Per trigger: compute one key per group (once), then admit it if every key
 * has a free slot, is not cooling down and has no older waiter; otherwise queue
 * it on the first key that blocks it. Admission takes the slots, asks every
 * `shouldExecute`, then runs or skips. When a run ends, its slots are released
 * and only the waiters of those keys are looked at (see `key-state.ts`).
 */
export class ConstraintEngine implements ConstraintEnginePort, WaiterOwner {
  readonly #host: ConstraintEngineHost;
  /** Arrays are replaced, never changed in place, so a running check can hold on to one. */
  #cores: readonly GroupCore[] = [];
  #checkers: readonly GroupCore[] = [];
  readonly #coreSet = new Set<GroupCore>();
  /** Whether a group was ever removed; until then, no entry needs the membership check. */
  #removedAny = false;
  readonly #scratch: Array<KeyState | undefined> = [];
  #collecting = false;
  /**
   * The waiting triggers of each signal: one `abort` listener per signal,
   * however many triggers share it.
   */
  readonly #watched = new Map<AbortSignal, Set<Waiter>>();
  readonly #onAbort = (event: Event): void => this.#abortWaiters(event.target as AbortSignal);
  /** Triggers of this engine in a line (queued on a key), for `manager.waiting`. */
  #waiting = 0;
  /** Admitted triggers waiting for an asynchronous `shouldExecute` answer. */
  #checking = 0;

  constructor(host: ConstraintEngineHost) {
    this.#host = host;
  }

  addGroup(group: ConstraintGroupPort): void {
    const core = groupCores.get(group);
    if (core === undefined) {
      invalidOption('group', 'a TaskConstraintGroup from @taskbuffer/constraints', group);
    }
    if (this.#coreSet.has(core)) return;
    core.clock = this.#host.clock;
    this.#coreSet.add(core);
    this.#cores = [...this.#cores, core];
    if (core.shouldExecute !== undefined) this.#checkers = [...this.#checkers, core];
  }

  removeGroup(group: ConstraintGroupPort): void {
    const core = groupCores.get(group);
    if (core === undefined || !this.#coreSet.has(core)) return;
    this.#coreSet.delete(core);
    this.#removedAny = true;
    this.#cores = this.#cores.filter((other) => other !== core);
    this.#checkers = this.#checkers.filter((other) => other !== core);
    // Slots this engine's waiters kept in the group are free again for its other managers.
    for (const state of core.keys.values()) if (state.reservers !== undefined) dropReservationsOf(state, this);
    // What waited on this group is looked at again, oldest first, without it.
    const evacuated = this.#takeOwnWaiters(core);
    for (const waiter of evacuated) this.admit(waiter);
  }

  /** How many of this engine's triggers have not started: in line, or waiting for a `shouldExecute` answer. */
  get waiting(): number {
    return this.#waiting + this.#checking;
  }

  stop(reason: string): void {
    const cancelled: Waiter[] = [];
    for (const core of this.#cores) cancelled.push(...this.#takeOwnWaiters(core));
    cancelled.sort((a, b) => a.seq - b.seq);
    for (const waiter of cancelled) {
      if (waiter.signal !== undefined) this.#unwatch(waiter);
      this.#waiting--;
      waiter.state = DONE;
      for (const state of waiter.entries) {
        if (state.users > 0) state.users--;
        state.prune();
      }
      dropReservations(waiter, true);
      rejectWaiter(waiter, new TaskCancelledError(waiter.task.name, reason));
    }
    if (cancelled.length > 0) this.#host.left?.();
  }

  run(task: AnyTask, input: unknown, options?: { signal?: AbortSignal }): Promise<unknown> {
    const signal = options?.signal;
    if (signal !== undefined) {
      if (!isAbortSignal(signal)) {
        try {
          invalidOption('signal', 'an AbortSignal', signal);
        } catch (error) {
          return Promise.reject(error);
        }
      }
      if (signal.aborted) return Promise.reject(new TaskAbortedError(task.name, signal.reason));
    }
    const cores = this.#cores;
    // Keys go to a scratch array first and are copied to one of the exact size:
    // an array grown by push() would keep spare slots alive while it waits.
    const reentered = this.#collecting;
    const scratch = reentered ? [] : this.#scratch;
    this.#collecting = true;
    let count = 0;
    let failed: ConstraintCallbackError | undefined;
    for (let index = 0; index < cores.length; index++) {
      const core = cores[index]!;
      let key: string | null;
      try {
        key = core.keyOf(task, input);
      } catch (error) {
        failed = new ConstraintCallbackError('constraintKeyForExecution', core.name, task.name, error);
        break;
      }
      if (key === null) continue;
      const state = core.stateFor(key);
      state.users++;
      scratch[count++] = state;
    }
    const entries = count === 0 ? noEntries : (scratch.slice(0, count) as KeyState[]);
    for (let index = 0; index < count; index++) scratch[index] = undefined;
    if (!reentered) this.#collecting = false;
    if (failed !== undefined) {
      for (const state of entries) {
        state.users--;
        state.prune();
      }
      return Promise.reject(failed);
    }
    const waiter = new Waiter(this, task, input, entries);
    if (signal !== undefined) waiter.signal = signal;
    const blocking = this.#findBlocking(waiter);
    if (blocking === undefined) {
      this.#acquire(waiter);
      return this.#checkers.length === 0 ? this.#execute(waiter) : this.#checkThenExecute(waiter);
    }
    const promise = new Promise(captureResolve);
    waiter.resolve = capturedResolve;
    // Watched first: a `queued` listener may abort the signal.
    if (signal !== undefined) this.#watch(waiter, signal);
    this.#park(waiter, blocking);
    return promise;
  }

  /** @internal Called with a waiter just taken off a key's queue. */
  admit(waiter: Waiter, freed?: KeyState): void {
    const blocking = this.#findBlocking(waiter);
    if (blocking !== undefined) {
      // It was the oldest waiter of `freed`: no younger trigger takes that slot
      // while it waits for the next key, so it cannot be overtaken there again.
      if (freed !== undefined && freed !== blocking && (!this.#removedAny || this.#coreSet.has(freed.group))) {
        reserve(waiter, freed);
      }
      this.#park(waiter, blocking);
      return;
    }
    this.#acquire(waiter);
    const run = this.#checkers.length === 0 ? this.#execute(waiter) : this.#checkThenExecute(waiter);
    // The trigger's promise adopts the run's outcome.
    waiter.resolve(run);
  }

  /** The first key that keeps a waiter from starting now, if any. */
  #findBlocking(waiter: Waiter): KeyState | undefined {
    const entries = waiter.entries;
    for (let index = 0; index < entries.length; index++) {
      const state = entries[index]!;
      const core = state.group;
      if (this.#removedAny && !this.#coreSet.has(core)) continue;
      if (state.running >= core.maxConcurrent) return state;
      if (core.cooldownMs > 0 && state.isCooling(core.clock.now())) return state;
      // Never overtake an older trigger that waits for this key, or that keeps its slot while it waits for another.
      if (state.queued > 0 && state.head()!.seq < waiter.seq) return state;
      if (state.reservers !== undefined && isReservedAgainst(state, waiter)) return state;
    }
    return undefined;
  }

  #park(waiter: Waiter, state: KeyState): void {
    const moved = waiter.parkedOn !== state;
    if (waiter.state !== QUEUED) this.#waiting++;
    waiter.state = QUEUED;
    waiter.parkedOn = state;
    state.queue.push(waiter);
    state.queued++;
    if (moved) this.#host.emit(waiter.task, 'queued', state.queuedFields);
    // Blocked by a cooldown or by an older waiter rather than by a full key:
    // let the key's drain decide (it arms the cooldown timer or starts the older one).
    if (state.running < state.group.maxConcurrent) scheduleDrain(state);
  }

  #acquire(waiter: Waiter): void {
    if (this.#removedAny) {
      const kept: KeyState[] = [];
      for (const state of waiter.entries) {
        if (this.#coreSet.has(state.group)) kept.push(state);
        else {
          state.users--;
          state.prune();
        }
      }
      waiter.entries = kept;
    }
    const entries = waiter.entries;
    for (let index = 0; index < entries.length; index++) entries[index]!.running++;
    // Reserved slots become the run's own.
    if (waiter.reserved !== undefined) dropReservations(waiter, false);
    if (waiter.signal !== undefined) this.#unwatch(waiter);
    waiter.epoch = currentEpoch();
    if (waiter.state === QUEUED) this.#waiting--;
    waiter.state = ADMITTED;
  }

  /** Releases a waiter's slots once; `record` starts the keys' cooldowns (a run happened). */
  #release(waiter: Waiter, record: boolean): void {
    if (waiter.state === DONE) return;
    waiter.state = DONE;
    releaseSlots(waiter.entries, waiter.epoch, record);
  }

  #execute(waiter: Waiter): Promise<unknown> {
    const signal = waiter.signal;
    try {
      if (signal === undefined) return this.#host.execute(waiter.task, waiter.input, () => this.#release(waiter, true));
      // Aborted while `shouldExecute` was asked: nothing ran, so no cooldown starts.
      if (signal.aborted) {
        this.#release(waiter, false);
        this.#host.left?.();
        return Promise.reject(new TaskAbortedError(waiter.task.name, signal.reason));
      }
      return this.#host.execute(waiter.task, waiter.input, () => this.#release(waiter, true), { signal });
    } catch (error) {
      this.#release(waiter, false);
      this.#host.left?.();
      return Promise.reject(error);
    }
  }

  #checkThenExecute(waiter: Waiter): Promise<unknown> {
    const checkers = this.#checkers;
    for (let index = 0; index < checkers.length; index++) {
      const core = checkers[index]!;
      let verdict: unknown;
      try {
        verdict = core.shouldExecute!(waiter.task, waiter.input);
      } catch (error) {
        return Promise.reject(this.#checkFailed(waiter, core, error));
      }
      if (isThenable(verdict)) return this.#checkAsync(waiter, checkers, index, verdict);
      if (!verdict) return this.#skip(waiter, core);
    }
    return this.#execute(waiter);
  }

  async #checkAsync(
    waiter: Waiter,
    checkers: readonly GroupCore[],
    start: number,
    first: PromiseLike<unknown>,
  ): Promise<unknown> {
    let verdict: unknown = first;
    this.#checking++;
    for (let index = start; index < checkers.length; index++) {
      const core = checkers[index]!;
      try {
        if (index !== start) verdict = core.shouldExecute!(waiter.task, waiter.input);
        verdict = await verdict;
      } catch (error) {
        this.#checking--;
        throw this.#checkFailed(waiter, core, error);
      }
      if (!verdict) {
        this.#checking--;
        return this.#skip(waiter, core);
      }
    }
    this.#checking--;
    return this.#execute(waiter);
  }

  /**
   * A skipped trigger gives its slots back without starting a cooldown: no
   * work was done, so the next trigger of the key need not wait for it.
   */
  #skip(waiter: Waiter, core: GroupCore): Promise<undefined> {
    this.#release(waiter, false);
    this.#host.emit(waiter.task, 'skipped', {
      reason: `shouldExecute of constraint group "${core.name}" returned false`,
      constraintGroup: core.name,
    });
    this.#host.left?.();
    return resolvedUndefined;
  }

  #checkFailed(waiter: Waiter, core: GroupCore, error: unknown): ConstraintCallbackError {
    this.#release(waiter, false);
    this.#host.left?.();
    return new ConstraintCallbackError('shouldExecute', core.name, waiter.task.name, error);
  }

  #watch(waiter: Waiter, signal: AbortSignal): void {
    let waiters = this.#watched.get(signal);
    if (waiters === undefined) {
      waiters = new Set();
      this.#watched.set(signal, waiters);
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
    waiters.add(waiter);
  }

  #unwatch(waiter: Waiter): void {
    const signal = waiter.signal!;
    const waiters = this.#watched.get(signal);
    if (waiters === undefined || !waiters.delete(waiter) || waiters.size > 0) return;
    this.#watched.delete(signal);
    signal.removeEventListener('abort', this.#onAbort);
  }

  /** Takes every trigger of an aborted signal out of line, oldest first. */
  #abortWaiters(signal: AbortSignal): void {
    const waiters = this.#watched.get(signal);
    if (waiters === undefined) return;
    this.#watched.delete(signal);
    const aborted = [...waiters].sort((a, b) => a.seq - b.seq);
    for (const waiter of aborted) this.#abortWaiter(waiter, signal.reason);
  }

  /**
   * A waiting trigger leaves: it held no slot and ran nothing, so no cooldown
   * starts; the keys it kept reserved and the key it waited on are looked at
   * again, since it may have been what held the next trigger back.
   */
  #abortWaiter(waiter: Waiter, reason: unknown): void {
    if (waiter.state !== QUEUED) return;
    waiter.state = DONE;
    this.#waiting--;
    const parked = waiter.parkedOn!;
    parked.queued--;
    // The queue drops it lazily when it reaches the head; many aborted entries behind a long wait are dropped now.
    if (parked.queue.size > 2 * parked.queued + 64) {
      parked.queue.removeWhere((other) => other.state !== QUEUED || other.parkedOn !== parked);
    }
    for (const state of waiter.entries) if (state.users > 0) state.users--;
    dropReservations(waiter, true);
    if (parked.queued > 0) scheduleDrain(parked);
    else {
      parked.clearIfEmpty();
      if (parked.timer !== undefined) {
        parked.group.clock.clearTimeout(parked.timer);
        parked.timer = undefined;
      }
    }
    for (const state of waiter.entries) state.prune();
    rejectWaiter(waiter, new TaskAbortedError(waiter.task.name, reason));
    this.#host.left?.();
  }

  /** Takes this engine's waiters off every queue of a group (dropping cancelled entries), oldest first. */
  #takeOwnWaiters(core: GroupCore): Waiter[] {
    const taken: Waiter[] = [];
    for (const state of core.keys.values()) {
      if (state.queued === 0) continue;
      const removed = state.queue.removeWhere((waiter) => waiter.state !== QUEUED || waiter.owner === this);
      for (const waiter of removed) {
        if (waiter.state !== QUEUED || waiter.parkedOn !== state) continue;
        state.queued--;
        waiter.parkedOn = undefined;
        taken.push(waiter);
      }
      state.clearIfEmpty();
      if (state.queued === 0 && state.timer !== undefined) {
        core.clock.clearTimeout(state.timer);
        state.timer = undefined;
      }
    }
    taken.sort((a, b) => a.seq - b.seq);
    return taken;
  }
}
