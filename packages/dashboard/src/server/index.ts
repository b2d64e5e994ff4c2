export { createDashboardHandler } from './dashboard-handler.js';
export type { DashboardHandler, DashboardHandlerOptions, TriggerableDashboardManager } from './dashboard-handler.js';
export { startDashboardServer } from './dashboard-server.js';
export type { DashboardServer, DashboardServerOptions } from './dashboard-server.js';
export { loadDashboardBundle } from './bundle.js';
export type { DashboardBundle } from './bundle.js';
export { DashboardTaskNotFoundError, createLocalDashboardSource } from '../local-source.js';
export type { LocalDashboardSource, LocalDashboardSourceOptions } from '../local-source.js';
export { RunHistory } from '../run-history.js';
export type { RunHistoryOptions } from '../run-history.js';
export {
  DASHBOARD_PROTOCOL_VERSION,
  createSnapshot,
  getConstraintGroupSnapshots,
  toDashboardEvent,
  toDashboardTask,
} from '../protocol.js';
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
} from '../protocol.js';
