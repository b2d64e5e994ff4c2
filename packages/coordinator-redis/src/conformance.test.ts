import { InMemoryCoordinator } from '@taskbuffer/core';
import { describeCoordinatorConformance } from '@taskbuffer/core/testing';
import { afterAll, beforeAll, describe } from 'vitest';
import { RedisServer, redisServerInstalled } from '../test/redis-server.js';
import { RedisCoordinator } from './redis-coordinator.js';

describe.skipIf(!redisServerInstalled)('RedisCoordinator conformance', () => {
  let server: RedisServer;

  beforeAll(async () => {
    server = await RedisServer.start();
  });

  afterAll(async () => {
    await server?.stop();
  });

  describeCoordinatorConformance('RedisCoordinator', {
    create: (count) =>
      Array.from({ length: count }, () => new RedisCoordinator({ url: server.url, keyPrefix: 'conformance:' })),
  });
});

// The in-memory coordinator passes the same suite, so the two cannot drift apart.
describeCoordinatorConformance('InMemoryCoordinator (shared by every instance)', {
  create: (count) => {
    const shared = new InMemoryCoordinator();
    return Array.from({ length: count }, () => shared);
  },
});
