export { describeDashboardSourceConformance } from './source-conformance.js';
export type { DashboardSourceConformanceOptions } from './source-conformance.js';
