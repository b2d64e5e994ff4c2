import {
  DASHBOARD_PROTOCOL_VERSION,
  type DashboardEvent,
  type DashboardInstance,
  type DashboardRun,
  type DashboardSnapshot,
  type DashboardTask,
  type DashboardUpdate,
} from './protocol.js';

/** A message read off the wire: its value, or what was wrong with it. */
export type WireResult<T> = { ok: true; value: T; dropped: number } | { ok: false; problem: string };

const EVENT_TYPES = new Set(['started', 'step', 'completed', 'failed', 'retry', 'queued', 'skipped']);
const RUN_STATUSES = new Set(['queued', 'running', 'completed', 'failed', 'cancelled', 'skipped']);
const TASK_STATUSES = new Set(['idle', 'running', 'completed', 'failed']);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isTask(value: unknown): value is DashboardTask {
  return (
    isObject(value) &&
    typeof value.name === 'string' &&
    typeof value.status === 'string' &&
    TASK_STATUSES.has(value.status) &&
    Array.isArray(value.steps) &&
    value.steps.every(isObject) &&
    isObject(value.labels) &&
    typeof value.currentProgress === 'number' &&
    typeof value.runCount === 'number' &&
    typeof value.errorCount === 'number'
  );
}

function isInstance(value: unknown): value is DashboardInstance {
  return (
    isObject(value) &&
    typeof value.id === 'string' &&
    (value.status === 'live' || value.status === 'gone') &&
    typeof value.lastSeen === 'number' &&
    typeof value.triggers === 'boolean'
  );
}

/** Tasks whose `instances` is not a list of names keep the task and lose the list. */
function cleanTasks(tasks: DashboardTask[]): DashboardTask[] {
  for (const task of tasks) {
    const instances: unknown = task.instances;
    if (instances !== undefined && !(Array.isArray(instances) && instances.every((id) => typeof id === 'string'))) {
      delete task.instances;
    }
  }
  return tasks;
}

function isEvent(value: unknown): value is DashboardEvent {
  return (
    isObject(value) &&
    typeof value.type === 'string' &&
    EVENT_TYPES.has(value.type) &&
    typeof value.taskName === 'string' &&
    typeof value.timestamp === 'number'
  );
}

function isRun(value: unknown): value is DashboardRun {
  return (
    isObject(value) &&
    typeof value.id === 'string' &&
    typeof value.taskName === 'string' &&
    typeof value.status === 'string' &&
    RUN_STATUSES.has(value.status) &&
    (value.startedAt === undefined || typeof value.startedAt === 'number') &&
    (value.endedAt === undefined || typeof value.endedAt === 'number') &&
    (value.queuedAt === undefined || typeof value.queuedAt === 'number')
  );
}

function keep<T>(items: unknown, check: (value: unknown) => value is T, counter: { dropped: number }): T[] {
  if (!Array.isArray(items)) return [];
  const kept: T[] = [];
  for (const item of items) {
    if (check(item)) kept.push(item);
    else counter.dropped++;
  }
  return kept;
}

function parse(text: unknown, kind: string): { ok: true; value: Record<string, unknown> } | { ok: false; problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(String(text));
  } catch {
    const preview = String(text).slice(0, 40);
    return { ok: false, problem: `The server sent a ${kind} that is not JSON: "${preview}"` };
  }
  if (!isObject(value)) return { ok: false, problem: `The server sent a ${kind} that is not an object` };
  if (value.protocol !== DASHBOARD_PROTOCOL_VERSION) {
    return {
      ok: false,
      problem:
        typeof value.protocol === 'number'
          ? `The server speaks protocol version ${value.protocol}; this page understands version ${DASHBOARD_PROTOCOL_VERSION}`
          : `The server sent a ${kind} without a protocol version`,
    };
  }
  return { ok: true, value };
}

/**
 * Reads a `snapshot` message. Malformed tasks, events and runs are left out
 * (and counted in `dropped`); a message of another protocol version, or one
 * that is not a snapshot at all, is refused with the reason.
 */
export function readSnapshot(text: unknown): WireResult<DashboardSnapshot> {
  const parsed = parse(text, 'snapshot');
  if (!parsed.ok) return parsed;
  const raw = parsed.value;
  if (!Array.isArray(raw.tasks) || typeof raw.time !== 'number') {
    return { ok: false, problem: 'The server sent a snapshot without tasks' };
  }
  const counter = { dropped: 0 };
  const snapshot: DashboardSnapshot = {
    protocol: DASHBOARD_PROTOCOL_VERSION,
    time: raw.time,
    tasks: cleanTasks(keep(raw.tasks, isTask, counter)),
    scheduled: Array.isArray(raw.scheduled) ? (raw.scheduled.filter(isObject) as never) : [],
    nextRuns: Array.isArray(raw.nextRuns) ? (raw.nextRuns.filter(isObject) as never) : [],
    constraintGroups: Array.isArray(raw.constraintGroups) ? (raw.constraintGroups.filter(isObject) as never) : [],
    actions: isObject(raw.actions) && typeof raw.actions.trigger === 'string' ? { trigger: raw.actions.trigger } : {},
  };
  if (raw.runs !== undefined) snapshot.runs = keep(raw.runs, isRun, counter);
  if (typeof raw.runsPerTask === 'number' && Number.isInteger(raw.runsPerTask) && raw.runsPerTask >= 0) {
    snapshot.runsPerTask = raw.runsPerTask;
  }
  if (raw.instances !== undefined) snapshot.instances = keep(raw.instances, isInstance, counter);
  return { ok: true, value: snapshot, dropped: counter.dropped };
}

/** Reads an `update` message, like {@link readSnapshot}. Events of unknown types are left out. */
export function readUpdate(text: unknown): WireResult<DashboardUpdate> {
  const parsed = parse(text, 'update');
  if (!parsed.ok) return parsed;
  const raw = parsed.value;
  if (!Array.isArray(raw.tasks) || typeof raw.time !== 'number') {
    return { ok: false, problem: 'The server sent an update without tasks' };
  }
  const counter = { dropped: 0 };
  const update: DashboardUpdate = {
    protocol: DASHBOARD_PROTOCOL_VERSION,
    time: raw.time,
    tasks: cleanTasks(keep(raw.tasks, isTask, counter)),
    events: keep(raw.events, isEvent, counter),
    droppedEvents: typeof raw.droppedEvents === 'number' ? raw.droppedEvents : 0,
  };
  if (Array.isArray(raw.constraintGroups)) update.constraintGroups = raw.constraintGroups.filter(isObject) as never;
  if (raw.runs !== undefined) update.runs = keep(raw.runs, isRun, counter);
  if (raw.instances !== undefined) update.instances = keep(raw.instances, isInstance, counter);
  return { ok: true, value: update, dropped: counter.dropped };
}
