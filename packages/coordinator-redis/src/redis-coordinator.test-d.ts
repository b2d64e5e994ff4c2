import { AbstractDistributedCoordinator, type IDistributedTaskRequestResult } from '@taskbuffer/core';
import { Cluster, Redis } from 'ioredis';
import { createClient, createCluster, createSentinel } from 'redis';
import { describe, expectTypeOf, it } from 'vitest';
import {
  type RedisClaimResult,
  type RedisClientLike,
  type RedisConnectionOptions,
  RedisCoordinator,
  type RedisCoordinatorOptions,
} from './index.js';

describe('RedisCoordinator', () => {
  describe('constructor', () => {
    it('takes a node-redis or an ioredis client as it comes', () => {
      expectTypeOf(createClient()).toExtend<RedisClientLike>();
      expectTypeOf(createClient({ url: 'redis://127.0.0.1:6379', RESP: 3 })).toExtend<RedisClientLike>();
      expectTypeOf(new Redis()).toExtend<RedisClientLike>();
    });

    it('takes Cluster and Sentinel clients of both packages', () => {
      expectTypeOf(createCluster({ rootNodes: [{ url: 'redis://127.0.0.1:7000' }] })).toExtend<RedisClientLike>();
      expectTypeOf(
        createSentinel({ name: 'primary', sentinelRootNodes: [{ host: '127.0.0.1', port: 26379 }] }),
      ).toExtend<RedisClientLike>();
      expectTypeOf(new Cluster([{ host: '127.0.0.1', port: 7000 }])).toExtend<RedisClientLike>();
      expectTypeOf(new Redis({ sentinels: [{ host: '127.0.0.1', port: 26379 }], name: 'primary' })).toExtend<RedisClientLike>();
    });

    it('takes connection options for a URL', () => {
      expectTypeOf<RedisCoordinatorOptions['onUnavailable']>().toEqualTypeOf<'skip' | 'run' | undefined>();
      expectTypeOf<RedisCoordinatorOptions>().toExtend<RedisConnectionOptions>();
      new RedisCoordinator({
        url: 'rediss://redis.example.com:6380',
        username: 'taskbuffer',
        password: 'secret',
        tls: { ca: Buffer.from(''), cert: '', key: '', servername: 'redis.example.com' },
      });
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
