export { RedisCoordinator } from './redis-coordinator.js';
export type {
  RedisClaimDecision,
  RedisClaimResult,
  RedisCoordinatorLogger,
  RedisCoordinatorOptions,
  RedisTaskState,
} from './redis-coordinator.js';
export { RedisCoordinatorError } from './errors.js';
export type { RedisErrorKind } from './redis-errors.js';
export type { IoRedisClientLike, NodeRedisClientLike } from './redis-connection.js';
export type { NodeRedisClusterLike, NodeRedisSentinelLike, RedisClientLike } from './redis-clients.js';
export type { RedisConnectionOptions, RedisTlsOptions } from './redis-connection-options.js';
export { CLAIM_SCRIPT, OUTCOME_SCRIPT } from './claim-script.js';
