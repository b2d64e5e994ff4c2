import './browser/define.js';

export { TaskbufferDashboard } from './browser/taskbuffer-dashboard.js';
export type { DashboardConnectionState, DashboardTheme } from './browser/taskbuffer-dashboard.js';
export { DashboardState, matchesLabel, parseLabelFilter, sameTask } from './dashboard-state.js';
export type { LabelFilter } from './dashboard-state.js';
export { EventCoalescer } from './event-coalescer.js';
export type { EventCoalescerOptions, FlushScheduler } from './event-coalescer.js';
export {
  createSnapshot,
  getConstraintGroupSnapshots,
  toDashboardEvent,
  toDashboardTask,
} from './protocol.js';
export type {
  DashboardActions,
  DashboardEvent,
  DashboardScheduledRun,
  DashboardScheduledTask,
  DashboardSnapshot,
  DashboardSource,
  DashboardTask,
  DashboardUpdate,
  SnapshotOptions,
} from './protocol.js';
