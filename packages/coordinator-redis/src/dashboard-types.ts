import type { ConstraintGroupSnapshot, ITaskMetadata } from '@taskbuffer/core';

// The shapes of `@taskbuffer/dashboard`'s wire protocol (version 1) that the
// relay writes and `RedisDashboardSource` serves, copied structurally so that
// this package needs no dashboard at run time and the dashboard needs no
// Redis. `dashboard-types.test-d.ts` checks that they still fit the
// dashboard's own types.

/** The dashboard wire protocol version these shapes follow. */
export const DASHBOARD_PROTOCOL = 1;

/** A task's metadata as JSON (dates as epoch ms), with the instances that have it. */
export interface RelayedTask extends Omit<ITaskMetadata, 'lastRun' | 'nextRun'> {
  lastRun?: number;
  nextRun?: number;
  instances?: string[];
}

/** One task event as JSON, without the metadata. */
export interface RelayedEvent {
  type: 'started' | 'step' | 'completed' | 'failed' | 'retry' | 'queued' | 'skipped';
  taskName: string;
  timestamp: number;
  instanceId?: string;
  stepName?: string;
  error?: string;
  attempt?: number;
  reason?: string;
  constraintGroup?: string;
  constraintKey?: string;
  scheduledTime?: number;
}

/** One run of a task. */
export interface RelayedRun {
  id: string;
  taskName: string;
  status: 'queued' | 'running' | 'completed' | 'failed' | 'cancelled' | 'skipped';
  queuedAt?: number;
  waitedOn?: string;
  cooldownMs?: number;
  startedAt?: number;
  endedAt?: number;
  attempt?: number;
  error?: string;
  reason?: string;
  instanceId?: string;
  tick?: number;
  fence?: number;
  input?: string;
}

/** A scheduled task as JSON. */
export interface RelayedScheduledTask {
  name: string;
  schedule: string;
  nextRun?: number;
  timezone?: string;
}

/** An upcoming run as JSON. */
export interface RelayedScheduledRun {
  taskName: string;
  nextRun: number;
  schedule: string;
}

/** One instance of the cluster as the merged dashboard shows it. */
export interface DashboardInstanceState {
  id: string;
  /** `live` while it heartbeats; `gone` once its presence expired or it left. */
  status: 'live' | 'gone';
  /** Epoch ms (this process's clock) of the last sign of life seen. */
  lastSeen: number;
  /** Whether it takes triggers from the dashboard (`relayToRedis(…, { allowTrigger: true })`). */
  triggers: boolean;
}

/** Everything the merged dashboard shows, at one moment (the dashboard's `DashboardSnapshot`). */
export interface MergedSnapshot {
  protocol: number;
  time: number;
  tasks: RelayedTask[];
  scheduled: RelayedScheduledTask[];
  nextRuns: RelayedScheduledRun[];
  constraintGroups: ConstraintGroupSnapshot[];
  actions: { trigger?: string };
  runs?: RelayedRun[];
  runsPerTask?: number;
  instances: DashboardInstanceState[];
}

/** A batch of changes (the dashboard's `DashboardUpdate`). */
export interface MergedUpdate {
  protocol: number;
  time: number;
  tasks: RelayedTask[];
  events: RelayedEvent[];
  droppedEvents: number;
  constraintGroups?: ConstraintGroupSnapshot[];
  runs?: RelayedRun[];
  instances?: DashboardInstanceState[];
}

/** What a watcher of a {@link RedisDashboardSource} hears (the dashboard's `DashboardSourceListener`). */
export interface MergedSourceListener {
  update(update: MergedUpdate): void;
  /** What the source cannot see right now (Redis down, entries it cannot read); `undefined` once it can again. */
  problem?(message: string | undefined): void;
}
