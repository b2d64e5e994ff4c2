import { type AnyTask, type Clock, type TimerHandle, describeValue, systemClock } from '@taskbuffer/core';
import { type Sequenced, WaitQueue } from './wait-queue.js';

/*
 * The state every constraint engine shares: per group, per key, how many runs
 * hold a slot, when the last one ended, and who waits for the key. It lives on
 * the group (not the engine), so a group's public methods (`canRun`,
 * `releaseSlot`, ...) and every manager the group is added to see one truth.
 */

/** What a group does with a key and a trigger; set from the group's options. */
export type KeyFunction = (task: AnyTask, input: unknown) => unknown;
export type ShouldExecuteFunction = (task: AnyTask, input: unknown) => unknown;

/** A waiter is queued on exactly one key (its `parkedOn`). */
export const QUEUED = 0;
/** Slots are held: `shouldExecute` is being asked, or the task runs. */
export const ADMITTED = 1;
/** Slots released, or the trigger was cancelled. */
export const DONE = 2;
/** Not yet admitted nor queued. */
export const NEW = 3;

/** What owns a waiter: the engine of the manager it was triggered on. */
export interface WaiterOwner {
  /**
   * Re-evaluates a waiter that was taken off a key's queue: start it, or queue
   * it on what blocks it now. `freed` is the key whose free slot it was given;
   * if it cannot start, it keeps that slot reserved while it waits elsewhere.
   */
  admit(waiter: Waiter, freed?: KeyState): void;
}

let nextSeq = 0;
let resetEpoch = 0;

/** The current reset epoch; a slot taken now belongs to it. */
export function currentEpoch(): number {
  return resetEpoch;
}

/** One trigger on its way through the constraint groups. */
export class Waiter implements Sequenced {
  /** Trigger order across every manager and group; lower is older. */
  readonly seq = nextSeq++;
  state = NEW;
  /**
   * The key it is queued on while `state === QUEUED`; afterwards the key it was
   * last queued on, so that only a move to another key is reported again.
   */
  parkedOn: KeyState | undefined = undefined;
  epoch = 0;
  /**
   * Keys whose free slot this waiter was given while another of its keys still
   * blocked it: younger triggers may not take them until it starts or leaves.
   */
  reserved: KeyState[] | undefined = undefined;
  /** The trigger's own signal, if it was given one. */
  signal: AbortSignal | undefined = undefined;
  /**
   * Settles the trigger's promise. Only this one of the two settle functions is
   * kept (a pending trigger is smaller so); it rejects by adopting a rejected promise.
   */
  resolve: (value: unknown) => void = noop;

  constructor(
    readonly owner: WaiterOwner,
    readonly task: AnyTask,
    readonly input: unknown,
    /** One key per group that applies; fixed when the trigger was made. */
    public entries: KeyState[],
  ) {}
}

function noop(): void {}

/** The internal state of one `TaskConstraintGroup`. */
export class GroupCore {
  readonly keys = new Map<string, KeyState>();
  clock: Clock = systemClock;
  /** Slots taken before this epoch were forgotten by `reset()`. */
  resetEpoch = -1;
  #sweepAt = 1024;
  /**
   * Keys kept only for their cooldown, in the order they went idle (so about
   * the order their cooldowns end): `#expiring[#expiringHead ..]`.
   */
  #expiring: KeyState[] = [];
  #expiringHead = 0;
  #expiryTimer: TimerHandle | undefined = undefined;

  constructor(
    readonly name: string,
    readonly maxConcurrent: number,
    readonly cooldownMs: number,
    readonly keyFor: KeyFunction,
    readonly shouldExecute: ShouldExecuteFunction | undefined,
  ) {}

  /** The state of a key, created on first use. */
  stateFor(key: string): KeyState {
    let state = this.keys.get(key);
    if (state === undefined) {
      if (this.keys.size >= this.#sweepAt) this.#sweep();
      state = new KeyState(this, key);
      this.keys.set(key, state);
    }
    return state;
  }

  /**
   * Computes the key of a trigger. `undefined` counts as `null` (exempt);
   * anything else that is not a string is a `TypeError`.
   */
  keyOf(task: AnyTask, input: unknown): string | null {
    const key = this.keyFor(task, input);
    if (typeof key === 'string') return key;
    if (key === null || key === undefined) return null;
    if (typeof (key as { then?: unknown }).then === 'function') {
      throw new TypeError(
        'Expected `constraintKeyForExecution` to return a string or null, got a Promise: ' +
          'the key is computed synchronously, so the function may not be async',
      );
    }
    throw new TypeError(
      `Expected \`constraintKeyForExecution\` to return a string or null, got ${describeValue(key)}`,
    );
  }

  cooldownRemaining(state: KeyState, now: number): number {
    if (this.cooldownMs === 0) return 0;
    const remaining = state.lastEnd + this.cooldownMs - now;
    return remaining > 0 ? remaining : 0;
  }

  /** Forgets every running slot and cooldown; waiters stay and are re-evaluated. */
  reset(): void {
    this.resetEpoch = ++resetEpoch;
    const waiting: KeyState[] = [];
    for (const state of this.keys.values()) {
      state.running = 0;
      state.lastEnd = Number.NEGATIVE_INFINITY;
      if (state.timer !== undefined) {
        this.clock.clearTimeout(state.timer);
        state.timer = undefined;
      }
      if (state.queued > 0) waiting.push(state);
    }
    this.#sweep();
    for (const state of waiting) scheduleDrain(state);
  }

  /**
   * Drops `state` once its cooldown has ended, unless it is in use again by
   * then. One unref'd timer per group, due when the oldest such key has cooled
   * down: nothing polls, and a process with only cooling keys can exit.
   */
  expireLater(state: KeyState, now: number): void {
    if (state.expiring) return;
    state.expiring = true;
    state.expiresAt = state.lastEnd + this.cooldownMs;
    this.#expiring.push(state);
    if (this.#expiryTimer === undefined) this.#armExpiry(now);
  }

  #armExpiry(now: number): void {
    const due = this.#expiring[this.#expiringHead]!.expiresAt;
    this.#expiryTimer = this.clock.setTimeout(
      () => this.#expire(),
      Math.min(MAX_TIMER_DELAY, Math.max(1, due - now)),
      { unref: true },
    );
  }

  #expire(): void {
    // #expiryTimer stays set until the end, so a key put back in line below arms no second timer.
    const now = this.clock.now();
    const expiring = this.#expiring;
    let head = this.#expiringHead;
    while (head < expiring.length) {
      const state = expiring[head]!;
      // Due times are about in order; one that went idle late is dropped at most a cooldown late.
      if (state.expiresAt > now) break;
      expiring[head++] = undefined as never;
      state.expiring = false;
      // prune() drops it, or (used again since, and cooling anew) puts it back in line.
      state.prune();
    }
    this.#expiryTimer = undefined;
    if (head === expiring.length) {
      this.#expiring = [];
      this.#expiringHead = 0;
      return;
    }
    if (head > 1024 && head * 2 > expiring.length) {
      this.#expiring = expiring.slice(head);
      head = 0;
    }
    this.#expiringHead = head;
    this.#armExpiry(now);
  }

  /** Drops keys nobody uses and that are not cooling down, so unbounded key spaces do not leak. */
  #sweep(): void {
    const now = this.clock.now();
    for (const state of this.keys.values()) if (state.isIdle(now)) this.keys.delete(state.key);
    this.#sweepAt = Math.max(1024, this.keys.size * 2);
  }
}

/** One key of one group. */
export class KeyState {
  running = 0;
  /** Live triggers that hold this key: running, being checked, or waiting anywhere. */
  users = 0;
  /** Live waiters queued on this key (the queue may also hold cancelled ones). */
  queued = 0;
  /** When the last run on this key ended (group clock, ms); only kept with a cooldown. */
  lastEnd = Number.NEGATIVE_INFINITY;
  queue = new WaitQueue<Waiter>();
  /** Waiters that hold a reservation on this key (see {@link Waiter.reserved}), in no order. */
  reservers: Waiter[] | undefined = undefined;
  timer: TimerHandle | undefined = undefined;
  timerDue = 0;
  scheduled = false;
  /** Whether it waits in its group's line of keys to drop when their cooldown ends, and when that is. */
  expiring = false;
  expiresAt = 0;
  /** The fields of this key's `queued` events; one frozen object, shared by all of them. */
  readonly queuedFields: { readonly constraintGroup: string; readonly constraintKey: string };

  constructor(
    readonly group: GroupCore,
    readonly key: string,
  ) {
    this.queuedFields = Object.freeze({ constraintGroup: group.name, constraintKey: key });
  }

  /** The oldest live waiter, dropping cancelled ones on the way. */
  head(): Waiter | undefined {
    let waiter = this.queue.peek();
    while (waiter !== undefined && (waiter.state !== QUEUED || waiter.parkedOn !== this)) {
      this.queue.shift();
      waiter = this.queue.peek();
    }
    return waiter;
  }

  isCooling(now: number): boolean {
    const cooldownMs = this.group.cooldownMs;
    return cooldownMs > 0 && now < this.lastEnd + cooldownMs;
  }

  isIdle(now: number): boolean {
    return this.users === 0 && this.running === 0 && this.queued === 0 && this.timer === undefined && !this.isCooling(now);
  }

  /** Removes this key from its group when nothing needs it any more. */
  prune(): void {
    if (this.users !== 0 || this.running !== 0 || this.queued !== 0 || this.timer !== undefined) return;
    const group = this.group;
    if (group.keys.get(this.key) !== this) return;
    if (group.cooldownMs > 0) {
      const now = group.clock.now();
      if (this.isCooling(now)) {
        group.expireLater(this, now);
        return;
      }
    }
    group.keys.delete(this.key);
  }

  /** Forgets the queue's cancelled entries once no live waiter is left. */
  clearIfEmpty(): void {
    if (this.queued === 0 && this.queue.size > 0) this.queue = new WaitQueue<Waiter>();
  }
}

/**
 * Gives back one slot of each key. `epoch` is when the slots were taken (slots
 * from before a `reset()` are not counted twice); `record` starts the
 * cooldowns. Every key is released before any waiter is looked at, so a
 * waiter never sees half of a run's keys released.
 */
export function releaseSlots(states: readonly KeyState[], epoch: number, record: boolean): void {
  let wake = false;
  for (let index = 0; index < states.length; index++) {
    const state = states[index]!;
    const group = state.group;
    if (group.resetEpoch <= epoch && state.running > 0) {
      state.running--;
      if (record && group.cooldownMs > 0) state.lastEnd = group.clock.now();
    }
    if (state.users > 0) state.users--;
    if (state.queued > 0) {
      enqueueDrain(state);
      wake = true;
    } else if (state.users === 0) state.prune();
  }
  if (wake) flushDrains();
}

// ---------------------------------------------------------------------------
// Reservations
// ---------------------------------------------------------------------------

/**
 * Whether reservations of triggers older than `waiter` leave it no slot of
 * the key. On a key with a cooldown a reservation holds the whole key: a
 * younger run would end in a new cooldown that the reserving trigger would
 * then wait for.
 */
export function isReservedAgainst(state: KeyState, waiter: Waiter): boolean {
  const reservers = state.reservers!;
  let older = 0;
  for (let index = 0; index < reservers.length; index++) if (reservers[index]!.seq < waiter.seq) older++;
  if (older === 0) return false;
  return state.group.cooldownMs > 0 || state.running + older >= state.group.maxConcurrent;
}

/** Keeps `state`'s free slot for `waiter` while it waits on another key. */
export function reserve(waiter: Waiter, state: KeyState): void {
  const reserved = waiter.reserved;
  if (reserved === undefined) waiter.reserved = [state];
  else if (reserved.includes(state)) return;
  else reserved.push(state);
  if (state.reservers === undefined) state.reservers = [waiter];
  else state.reservers.push(waiter);
}

/**
 * Gives up every reservation of a waiter. `wake`: it leaves without taking
 * the slots (cancelled, aborted), so what waits on those keys is looked at.
 */
export function dropReservations(waiter: Waiter, wake: boolean): void {
  const reserved = waiter.reserved;
  if (reserved === undefined) return;
  waiter.reserved = undefined;
  for (let index = 0; index < reserved.length; index++) {
    const state = reserved[index]!;
    removeReserver(state, waiter);
    if (wake && state.queued > 0) enqueueDrain(state);
  }
  if (wake) flushDrains();
}

/** Gives up the reservations that waiters of `owner` hold on `state` (its group no longer applies to them). */
export function dropReservationsOf(state: KeyState, owner: WaiterOwner): void {
  const reservers = state.reservers;
  if (reservers === undefined) return;
  for (const waiter of [...reservers]) {
    if (waiter.owner !== owner) continue;
    removeReserver(state, waiter);
    const reserved = waiter.reserved!;
    reserved.splice(reserved.indexOf(state), 1);
    if (reserved.length === 0) waiter.reserved = undefined;
  }
  if (state.queued > 0) scheduleDrain(state);
}

function removeReserver(state: KeyState, waiter: Waiter): void {
  const reservers = state.reservers!;
  const position = reservers.indexOf(waiter);
  if (position !== -1) {
    reservers[position] = reservers[reservers.length - 1]!;
    reservers.pop();
  }
  if (reservers.length === 0) state.reservers = undefined;
}

// ---------------------------------------------------------------------------
// Waking waiters
// ---------------------------------------------------------------------------

/** Keys waiting to be drained: `pending[0 .. pendingCount)`. Never shrunk, so no resize on the hot path. */
const pending: Array<KeyState | undefined> = [];
let pendingCount = 0;
let draining = false;

/** Asks for the waiters of a key to be looked at, now (or right after the drain in progress). */
export function scheduleDrain(state: KeyState): void {
  enqueueDrain(state);
  flushDrains();
}

function enqueueDrain(state: KeyState): void {
  if (state.scheduled) return;
  state.scheduled = true;
  pending[pendingCount++] = state;
}

/**
 * Drains run one after the other in a loop, never nested, so a long chain of
 * skipped or synchronously failing runs cannot grow the stack.
 */
function flushDrains(): void {
  if (draining || pendingCount === 0) return;
  draining = true;
  let index = 0;
  try {
    for (; index < pendingCount; index++) {
      const next = pending[index]!;
      pending[index] = undefined;
      next.scheduled = false;
      drainKey(next);
    }
  } finally {
    for (; index < pendingCount; index++) {
      pending[index]!.scheduled = false;
      pending[index] = undefined;
    }
    pendingCount = 0;
    draining = false;
  }
}

/**
 * Hands a key's free slots to its oldest waiters. A waiter that is still
 * blocked by another key moves there; one blocked by this key's cooldown
 * waits for a timer at the end of the cooldown.
 */
function drainKey(state: KeyState): void {
  const group = state.group;
  while (state.queued > 0) {
    if (state.running >= group.maxConcurrent) return;
    if (group.cooldownMs > 0) {
      const now = group.clock.now();
      if (state.isCooling(now)) {
        armCooldownTimer(state, now);
        return;
      }
    }
    const waiter = state.head();
    if (waiter === undefined) break;
    // The free slot is kept for an older trigger that waits on another key;
    // it starts (the slot is then its own) or leaves (and drains this key again).
    if (state.reservers !== undefined && isReservedAgainst(state, waiter)) return;
    state.queue.shift();
    state.queued--;
    waiter.owner.admit(waiter, state);
  }
  state.clearIfEmpty();
}

/**
 * The longest delay a timer takes (2³¹ − 1 ms, about 24.8 days); a longer one
 * would fire at once. A longer cooldown takes several timers: each wake-up
 * before the end re-arms for the rest.
 */
export const MAX_TIMER_DELAY = 2 ** 31 - 1;

/**
 * One timer per cooling key that has waiters, due when the cooldown ends. When
 * it fires the key's drain looks at the clock again: early (a long cooldown, a
 * clock that wakes early), it arms a timer for what is left.
 */
function armCooldownTimer(state: KeyState, now: number): void {
  const group = state.group;
  const due = state.lastEnd + group.cooldownMs;
  if (state.timer !== undefined) {
    if (state.timerDue === due) return;
    group.clock.clearTimeout(state.timer);
  }
  state.timerDue = due;
  state.timer = group.clock.setTimeout(() => {
    state.timer = undefined;
    if (state.queued > 0) scheduleDrain(state);
    else state.prune();
  }, Math.min(MAX_TIMER_DELAY, Math.max(1, due - now)));
}

/*
 * One instance of each hot class lives for as long as the module does. V8
 * holds the hidden classes an object moved through only weakly; when a full
 * GC runs while no trigger is in flight (between bursts), they would be
 * collected with the type feedback that names them, and the next burst would
 * run deoptimized code until the engine had learned them again.
 */
const sentinelGroup = new GroupCore('', 1, 0, () => null, undefined);
const sentinelState = new KeyState(sentinelGroup, '');
export const keepHiddenClassesAlive: readonly object[] = [
  sentinelGroup,
  sentinelState,
  new Waiter({ admit: noop }, undefined as never, undefined, [sentinelState]),
];
