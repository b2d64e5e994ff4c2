export { TaskConstraintGroup } from './constraint-group.js';
export type { ITaskConstraintGroupOptions } from './constraint-group.js';
export { ConstraintCallbackError } from './errors.js';
export type { ConstraintCallbackName } from './errors.js';
