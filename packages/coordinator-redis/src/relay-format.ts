import type { ConstraintGroupSnapshot } from '@taskbuffer/core';
import type { RelayedEvent, RelayedScheduledRun, RelayedScheduledTask, RelayedTask } from './dashboard-types.js';

/**
 * The version of what the relay writes: every stream entry, presence record,
 * command and reply carries it as `v`. A reader skips what carries another
 * version and says so.
 */
export const RELAY_FORMAT_VERSION = 1;

/** @default 'taskbuffer:dashboard:' */
export const DEFAULT_RELAY_PREFIX = 'taskbuffer:dashboard:';

/**
 * The keys of one relay namespace. Every command touches one key, so a Redis
 * Cluster routes each on its own; put the prefix in braces
 * (`{taskbuffer}:dashboard:`) to keep them on one node.
 */
export interface RelayKeys {
  /** The capped stream of batches from every instance. */
  stream: string;
  /** A set of the ids of instances that heartbeat (or did). */
  instances: string;
  /** An instance's presence record, which expires when it stops heartbeating. */
  instance(id: string): string;
  /** A list of commands for an instance. */
  commands(id: string): string;
  /** A list the answer to one command goes to. */
  reply(commandId: string): string;
}

export function relayKeys(prefix: string): RelayKeys {
  return {
    stream: `${prefix}stream`,
    instances: `${prefix}instances`,
    instance: (id) => `${prefix}instance:${id}`,
    commands: (id) => `${prefix}commands:${id}`,
    reply: (commandId) => `${prefix}reply:${commandId}`,
  };
}

/**
 * The event types by their number on the wire. New types get new numbers; a
 * reader skips numbers it does not know (and says so).
 */
export const EVENT_CODES = ['started', 'completed', 'failed', 'step', 'retry', 'queued', 'skipped'] as const;

/**
 * One event on the wire: `[type, task, offset]`, or `[type, task, offset,
 * details]`. `type` indexes {@link EVENT_CODES}, `task` the batch's `names`,
 * `offset` is ms after the batch's `start`; `details` holds the fields the
 * event has besides those (`stepName`, `error`, `attempt`, `reason`,
 * `constraintGroup`, `constraintKey`, `scheduledTime`). Arrays of small
 * numbers keep an entry a few bytes per event.
 */
export type WireEvent = [number, number, number] | [number, number, number, WireEventDetails];

export type WireEventDetails = Partial<
  Pick<RelayedEvent, 'stepName' | 'error' | 'attempt' | 'reason' | 'constraintGroup' | 'constraintKey' | 'scheduledTime'>
>;

/** One batch of an instance's changes, as the `d` field of a `batch` entry holds it. */
export interface WireBatch {
  /** Epoch ms (the instance's clock) when the batch was written. */
  time: number;
  /** Differs every time the relay starts, so readers tell a restarted instance from one that goes on. */
  session: string;
  /** Epoch ms the event offsets count from. */
  start: number;
  /** The task names the events refer to by index. */
  names: string[];
  /** Every event since the previous batch, oldest first. */
  events: WireEvent[];
  /** Events the relay could not write (Redis was down for long); readers count them as dropped. */
  lostEvents: number;
  /** The newest metadata of every task that had events. */
  tasks: RelayedTask[];
  /** The instance's constraint groups, when it has any. */
  constraintGroups?: ConstraintGroupSnapshot[];
}

/** A batch as a reader sees it: events with their names and times. */
export interface RelayBatch {
  time: number;
  session: string;
  events: RelayedEvent[];
  /** Events the relay lost plus events of types this version does not know. */
  lostEvents: number;
  /** Events of a type this version does not know. */
  unknownEvents: number;
  tasks: RelayedTask[];
  constraintGroups?: ConstraintGroupSnapshot[];
}

/** An instance's presence record: what it has, refreshed at every heartbeat. */
export interface PresenceRecord {
  v: number;
  id: string;
  /** Epoch ms (the instance's clock). */
  time: number;
  heartbeatMs: number;
  /** The record expires this long after the last heartbeat. */
  timeoutMs: number;
  /** Whether the instance takes triggers. */
  triggers: boolean;
  tasks: RelayedTask[];
  scheduled: RelayedScheduledTask[];
  nextRuns: RelayedScheduledRun[];
  constraintGroups: ConstraintGroupSnapshot[];
}

/** A command to one instance. */
export interface RelayCommand {
  v: number;
  id: string;
  type: 'trigger';
  taskName: string;
}

/** An instance's answer to a command. */
export type RelayReply = { v: number; ok: true } | { v: number; ok: false; notFound?: boolean; error?: string };

export type StreamEntry =
  | { ok: true; id: string; instanceId: string; kind: 'batch'; batch: RelayBatch }
  | { ok: true; id: string; instanceId: string; kind: 'leave' }
  | { ok: false; id: string; instanceId?: string; problem: string };

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The fields of a stream entry, to pass to `XADD … *`. */
export function encodeEntry(instanceId: string, kind: 'batch' | 'leave', batch?: WireBatch): string[] {
  const fields = ['v', String(RELAY_FORMAT_VERSION), 'i', instanceId, 'k', kind];
  if (batch !== undefined) fields.push('d', JSON.stringify(batch));
  return fields;
}

/** Reads one stream entry (`[id, [field, value, …]]`); never throws. */
export function decodeEntry(raw: unknown): StreamEntry {
  const id = Array.isArray(raw) ? (text(raw[0]) ?? '?') : '?';
  const list = Array.isArray(raw) && Array.isArray(raw[1]) ? (raw[1] as unknown[]) : undefined;
  if (list === undefined) return { ok: false, id, problem: 'an entry that is not a list of fields' };
  const fields = new Map<string, string>();
  for (let index = 0; index + 1 < list.length; index += 2) {
    const name = text(list[index]);
    const value = text(list[index + 1]);
    if (name !== undefined && value !== undefined) fields.set(name, value);
  }
  const instanceId = fields.get('i');
  const version = fields.get('v');
  if (version !== String(RELAY_FORMAT_VERSION)) {
    return {
      ok: false,
      id,
      instanceId,
      problem:
        version === undefined
          ? 'an entry without a format version'
          : `an entry of format version ${version} (this dashboard reads version ${RELAY_FORMAT_VERSION})`,
    };
  }
  if (instanceId === undefined || instanceId === '') return { ok: false, id, problem: 'an entry without an instance id' };
  const kind = fields.get('k');
  if (kind === 'leave') return { ok: true, id, instanceId, kind };
  if (kind !== 'batch') return { ok: false, id, instanceId, problem: `an entry of unknown kind ${JSON.stringify(kind)}` };
  let data: unknown;
  try {
    data = JSON.parse(fields.get('d') ?? '');
  } catch {
    return { ok: false, id, instanceId, problem: 'an entry whose data is not JSON' };
  }
  if (
    !isObject(data) ||
    typeof data.time !== 'number' ||
    typeof data.start !== 'number' ||
    typeof data.session !== 'string' ||
    !Array.isArray(data.names) ||
    !Array.isArray(data.events) ||
    !Array.isArray(data.tasks)
  ) {
    return { ok: false, id, instanceId, problem: 'an entry whose data is not a batch' };
  }
  const names = data.names as unknown[];
  const events: RelayedEvent[] = [];
  let unknownEvents = 0;
  for (const raw of data.events as unknown[]) {
    const event = decodeEvent(raw, names, data.start);
    if (event === undefined) unknownEvents++;
    else events.push(event);
  }
  const batch: RelayBatch = {
    time: data.time,
    session: data.session,
    events,
    lostEvents: (typeof data.lostEvents === 'number' ? data.lostEvents : 0) + unknownEvents,
    unknownEvents,
    tasks: data.tasks.filter(isTask),
  };
  if (Array.isArray(data.constraintGroups)) batch.constraintGroups = data.constraintGroups.filter(isObject) as never;
  return { ok: true, id, instanceId, kind, batch };
}

const TASK_STATUSES = new Set(['idle', 'running', 'completed', 'failed']);
const DETAIL_STRINGS = ['stepName', 'error', 'reason', 'constraintGroup', 'constraintKey'] as const;
const DETAIL_NUMBERS = ['attempt', 'scheduledTime'] as const;

/** Turns a task event into its wire form. */
export function encodeEvent(
  event: Pick<RelayedEvent, 'type' | 'timestamp'> & WireEventDetails,
  nameIndex: number,
  start: number,
): WireEvent {
  const code = EVENT_CODES.indexOf(event.type);
  const offset = event.timestamp - start;
  // `started` and `completed` carry nothing else: no details object to make.
  if (code < 2) return [code, nameIndex, offset];
  let details: WireEventDetails | undefined;
  for (const field of DETAIL_STRINGS) if (event[field] !== undefined) (details ??= {})[field] = event[field];
  for (const field of DETAIL_NUMBERS) if (event[field] !== undefined) (details ??= {})[field] = event[field];
  return details === undefined ? [code, nameIndex, offset] : [code, nameIndex, offset, details];
}

/** Reads one wire event; `undefined` for a type this version does not know or a malformed one. */
export function decodeEvent(raw: unknown, names: readonly unknown[], start: number): RelayedEvent | undefined {
  if (!Array.isArray(raw) || raw.length < 3) return undefined;
  const [code, index, offset, details] = raw as unknown[];
  const type = typeof code === 'number' ? EVENT_CODES[code] : undefined;
  const taskName = typeof index === 'number' ? names[index] : undefined;
  if (type === undefined || typeof taskName !== 'string' || typeof offset !== 'number') return undefined;
  const event: RelayedEvent = { type, taskName, timestamp: start + offset };
  if (isObject(details)) {
    for (const field of DETAIL_STRINGS) if (typeof details[field] === 'string') event[field] = details[field];
    for (const field of DETAIL_NUMBERS) if (typeof details[field] === 'number') event[field] = details[field];
  }
  return event;
}

function isTask(value: unknown): value is RelayedTask {
  return (
    isObject(value) &&
    typeof value.name === 'string' &&
    typeof value.status === 'string' &&
    TASK_STATUSES.has(value.status) &&
    Array.isArray(value.steps) &&
    isObject(value.labels) &&
    typeof value.runCount === 'number' &&
    typeof value.errorCount === 'number' &&
    typeof value.currentProgress === 'number'
  );
}

/** Reads a presence record; `undefined` for anything else (another version, garbage). */
export function decodePresence(raw: unknown): PresenceRecord | { problem: string } | undefined {
  const value = text(raw);
  if (value === undefined) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(value);
  } catch {
    return { problem: 'a presence record that is not JSON' };
  }
  if (!isObject(data)) return { problem: 'a presence record that is not an object' };
  if (data.v !== RELAY_FORMAT_VERSION) {
    return { problem: `a presence record of format version ${String(data.v)} (this dashboard reads version ${RELAY_FORMAT_VERSION})` };
  }
  if (typeof data.id !== 'string' || typeof data.time !== 'number' || !Array.isArray(data.tasks)) {
    return { problem: 'a presence record without id, time or tasks' };
  }
  return {
    v: RELAY_FORMAT_VERSION,
    id: data.id,
    time: data.time,
    heartbeatMs: typeof data.heartbeatMs === 'number' ? data.heartbeatMs : 0,
    timeoutMs: typeof data.timeoutMs === 'number' ? data.timeoutMs : 0,
    triggers: data.triggers === true,
    tasks: data.tasks.filter(isTask),
    scheduled: Array.isArray(data.scheduled) ? (data.scheduled.filter(isObject) as never) : [],
    nextRuns: Array.isArray(data.nextRuns) ? (data.nextRuns.filter(isObject) as never) : [],
    constraintGroups: Array.isArray(data.constraintGroups) ? (data.constraintGroups.filter(isObject) as never) : [],
  };
}

/** Reads a command; `undefined` when it is not one this version knows. */
export function decodeCommand(raw: unknown): RelayCommand | undefined {
  const value = text(raw);
  if (value === undefined) return undefined;
  try {
    const data: unknown = JSON.parse(value);
    if (
      isObject(data) &&
      data.v === RELAY_FORMAT_VERSION &&
      data.type === 'trigger' &&
      typeof data.id === 'string' &&
      typeof data.taskName === 'string'
    ) {
      return { v: RELAY_FORMAT_VERSION, id: data.id, type: 'trigger', taskName: data.taskName };
    }
  } catch {
    // Not JSON: not a command.
  }
  return undefined;
}

/** Reads a reply; a reply this version cannot read counts as an error. */
export function decodeReply(raw: unknown): RelayReply {
  const value = text(raw);
  try {
    const data: unknown = JSON.parse(value ?? '');
    if (isObject(data) && data.v === RELAY_FORMAT_VERSION) {
      if (data.ok === true) return { v: RELAY_FORMAT_VERSION, ok: true };
      return {
        v: RELAY_FORMAT_VERSION,
        ok: false,
        notFound: data.notFound === true,
        error: typeof data.error === 'string' ? data.error : undefined,
      };
    }
  } catch {
    // Falls through.
  }
  return { v: RELAY_FORMAT_VERSION, ok: false, error: 'the instance answered in a format this dashboard cannot read' };
}

/** The entries of an `XREAD`/`XRANGE` reply, whichever client sent it (`XREAD` nests them per stream). */
export function entriesOf(reply: unknown, fromXread: boolean): unknown[] {
  if (reply === null || reply === undefined) return [];
  if (!fromXread) return Array.isArray(reply) ? reply : [];
  if (!Array.isArray(reply)) {
    // RESP3 clients answer XREAD with a map of stream → entries.
    if (isObject(reply)) return Object.values(reply).flatMap((entries) => (Array.isArray(entries) ? entries : []));
    return [];
  }
  const all: unknown[] = [];
  for (const stream of reply) if (Array.isArray(stream) && Array.isArray(stream[1])) all.push(...(stream[1] as unknown[]));
  return all;
}
