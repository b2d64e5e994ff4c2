import './browser/define.js';

export { TaskbufferDashboard } from './browser/taskbuffer-dashboard.js';
export type { DashboardConnectionState, DashboardTheme } from './browser/taskbuffer-dashboard.js';
export { DashboardState, matchesLabel, parseLabelFilter, sameTask } from './dashboard-state.js';
export type { LabelFilter } from './dashboard-state.js';
export { EventCoalescer } from './event-coalescer.js';
export type { EventCoalescerOptions, FlushScheduler } from './event-coalescer.js';
export { DashboardTaskNotFoundError, createLocalDashboardSource } from './local-source.js';
export type { LocalDashboardSource, LocalDashboardSourceOptions } from './local-source.js';
export { RunHistory } from './run-history.js';
export type { RunHistoryOptions } from './run-history.js';
export { percentile, runDuration, runStats } from './run-stats.js';
export type { RunStats } from './run-stats.js';
export {
  DASHBOARD_PROTOCOL_VERSION,
  createSnapshot,
  getConstraintGroupSnapshots,
  toDashboardEvent,
  toDashboardTask,
} from './protocol.js';
export type {
  DashboardActions,
  DashboardEvent,
  DashboardInstance,
  DashboardManager,
  DashboardRun,
  DashboardRunStatus,
  DashboardScheduledRun,
  DashboardScheduledTask,
  DashboardSnapshot,
  DashboardSnapshotRequest,
  DashboardSource,
  DashboardSourceListener,
  DashboardSubscription,
  DashboardTask,
  DashboardUpdate,
  SnapshotOptions,
} from './protocol.js';
