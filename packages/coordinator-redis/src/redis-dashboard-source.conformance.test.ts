import type { TaskManager } from '@taskbuffer/core';
import type { DashboardSource } from '@taskbuffer/dashboard';
import { describeDashboardSourceConformance } from '@taskbuffer/dashboard/testing';
import { afterAll, beforeAll, describe } from 'vitest';
import { RedisServer, redisServerInstalled } from '../test/redis-server.js';
import { RedisDashboardSource } from './redis-dashboard-source.js';
import { type DashboardRelay, relayToRedis } from './redis-relay.js';

const quiet = { warn: () => undefined, info: () => undefined };

describe.skipIf(!redisServerInstalled)('RedisDashboardSource', () => {
  let server: RedisServer;
  const relays = new Map<DashboardSource, DashboardRelay>();
  let namespace = 0;

  beforeAll(async () => {
    server = await RedisServer.start();
  });

  afterAll(async () => {
    await server?.stop();
  });

  // The merged source, with one instance relayed into it: it must behave like a manager's own source.
  describeDashboardSourceConformance('RedisDashboardSource with one relayed instance', {
    create(manager: TaskManager) {
      const keyPrefix = `conformance:${++namespace}:`;
      const relay = relayToRedis(manager, {
        url: server.url,
        keyPrefix,
        heartbeatMs: 200,
        presenceTimeoutMs: 2000,
        allowTrigger: true,
        commandPollMs: 50,
        logger: quiet,
      });
      const source = new RedisDashboardSource({ url: server.url, keyPrefix, presenceMs: 200, logger: quiet });
      relays.set(source, relay);
      return source;
    },
    async destroy(source) {
      await relays.get(source)?.close();
      relays.delete(source);
      await (source as RedisDashboardSource).close();
    },
  });
});
