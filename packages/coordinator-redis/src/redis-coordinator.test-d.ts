import { AbstractDistributedCoordinator, type IDistributedTaskRequestResult } from '@taskbuffer/core';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { describe, expectTypeOf, it } from 'vitest';
import { type RedisClaimResult, type RedisClientLike, RedisCoordinator, type RedisCoordinatorOptions } from './index.js';

describe('RedisCoordinator', () => {
  describe('constructor', () => {
    it('takes a node-redis or an ioredis client as it comes', () => {
      expectTypeOf(createClient()).toExtend<RedisClientLike>();
      expectTypeOf(createClient({ url: 'redis://127.0.0.1:6379', RESP: 3 })).toExtend<RedisClientLike>();
      expectTypeOf(new Redis()).toExtend<RedisClientLike>();
      expectTypeOf<RedisCoordinatorOptions['onUnavailable']>().toEqualTypeOf<'skip' | 'run' | undefined>();
    });

    it('refuses a value that is no client', () => {
      // @ts-expect-error a plain object is not a Redis client
      new RedisCoordinator({ client: { get: () => null } });
    });
  });

  describe('fireDistributedTaskRequest', () => {
    it('is a distributed coordinator whose answer carries the fencing number', () => {
      expectTypeOf<RedisCoordinator>().toExtend<AbstractDistributedCoordinator>();
      expectTypeOf<ReturnType<RedisCoordinator['fireDistributedTaskRequest']>>().toEqualTypeOf<Promise<RedisClaimResult>>();
      expectTypeOf<RedisClaimResult>().toExtend<IDistributedTaskRequestResult>();
      expectTypeOf<RedisClaimResult['fence']>().toEqualTypeOf<number>();
    });
  });
});
