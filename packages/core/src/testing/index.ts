export { describeCoordinatorConformance } from './coordinator-conformance.js';
export type { CoordinatorConformanceOptions } from './coordinator-conformance.js';
