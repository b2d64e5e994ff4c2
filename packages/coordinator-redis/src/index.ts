export { RedisCoordinator } from './redis-coordinator.js';
export type {
  RedisClaimDecision,
  RedisClaimResult,
  RedisCoordinatorLogger,
  RedisCoordinatorOptions,
  RedisTaskState,
} from './redis-coordinator.js';
export { RedisCoordinatorError } from './errors.js';
export type { IoRedisClientLike, NodeRedisClientLike, RedisClientLike } from './redis-connection.js';
export { CLAIM_SCRIPT, OUTCOME_SCRIPT } from './claim-script.js';
