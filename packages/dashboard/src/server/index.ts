export { createDashboardHandler } from './dashboard-handler.js';
export type { DashboardHandler, DashboardHandlerOptions, TriggerableDashboardSource } from './dashboard-handler.js';
export { startDashboardServer } from './dashboard-server.js';
export type { DashboardServer, DashboardServerOptions } from './dashboard-server.js';
export { loadDashboardBundle } from './bundle.js';
export type { DashboardBundle } from './bundle.js';
export { createSnapshot, getConstraintGroupSnapshots, toDashboardEvent, toDashboardTask } from '../protocol.js';
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
} from '../protocol.js';
