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
export { relayToRedis } from './redis-relay.js';
export type { DashboardRelay, RelayToRedisOptions, RelayedManager } from './redis-relay.js';
export { RedisDashboardSource, RelayTaskNotFoundError } from './redis-dashboard-source.js';
export type { RedisDashboardSourceOptions } from './redis-dashboard-source.js';
export type { RelayLogger } from './relay-link.js';
export { RELAY_FORMAT_VERSION } from './relay-format.js';
export type {
  DashboardInstanceState,
  MergedSnapshot,
  MergedSourceListener,
  MergedUpdate,
  RelayedEvent,
  RelayedRun,
  RelayedScheduledRun,
  RelayedScheduledTask,
  RelayedTask,
} from './dashboard-types.js';
