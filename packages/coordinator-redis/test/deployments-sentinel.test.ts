/**
 * The coordinator on a primary and a replica watched by a Sentinel, through a
 * node-redis `createSentinel()` client and an ioredis client with
 * `sentinels`, across a `SENTINEL FAILOVER`. The README's deployment table
 * points here.
 */
import { Redis } from 'ioredis';
import { createSentinel } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisCoordinator, type RedisCoordinatorLogger, type RedisCoordinatorOptions } from '../src/index.js';
import { expectOneGrant, uniqueTask } from './coordination-check.js';
import { type SentinelDeployment, redisServerInstalled, startSentinel } from './deployments.js';

const quiet: RedisCoordinatorLogger = { warn() {}, info() {} };

describe.skipIf(!redisServerInstalled)('RedisCoordinator with Redis Sentinel', () => {
  let deployment: SentinelDeployment;
  const created: RedisCoordinator[] = [];
  const closers: (() => unknown)[] = [];

  function coordinator(options: RedisCoordinatorOptions): RedisCoordinator {
    const instance = new RedisCoordinator({ logger: quiet, ...options });
    created.push(instance);
    return instance;
  }

  /**
   * Claims a tick before a failover and the next ticks after it: the grants
   * go on, one per tick, on the new primary, with fences that keep growing.
   */
  async function expectCoordinatedAcrossFailover(instances: RedisCoordinator[]): Promise<void> {
    await Promise.all(instances.map((instance) => instance.start()));
    const task = uniqueTask();
    const before = await expectOneGrant(instances, task);
    const oldPrimary = await deployment.primaryPort();
    const newPrimary = await deployment.failover();
    expect(newPrimary).not.toBe(oldPrimary);
    // The clients find the new primary through the Sentinel; a claim waits for that within its grace period.
    const after = await expectOneGrant(instances, task);
    expect(after.fence).toBeGreaterThan(before.fence);
    expect(await deployment.primaryPort()).toBe(newPrimary);
  }

  beforeAll(async () => {
    deployment = await startSentinel();
  });

  afterEach(async () => {
    await Promise.all(created.splice(0).map((instance) => instance.stop()));
    await Promise.all(closers.splice(0).map(async (close) => close()));
  });

  afterAll(async () => {
    await deployment?.stop();
  });

  it('works with node-redis createSentinel() clients across a failover', async () => {
    const clients = [0, 1].map(() =>
      createSentinel({ name: deployment.name, sentinelRootNodes: deployment.sentinels }).on('error', () => {}),
    );
    await Promise.all(clients.map((client) => client.connect()));
    closers.push(...clients.map((client) => () => client.close()));
    await expectCoordinatedAcrossFailover(clients.map((client) => coordinator({ client })));
  });

  it('works with ioredis clients with `sentinels` across a failover', async () => {
    const clients = [0, 1].map(() => new Redis({ name: deployment.name, sentinels: deployment.sentinels }));
    closers.push(...clients.map((client) => () => client.quit()));
    await expectCoordinatedAcrossFailover(clients.map((client) => coordinator({ client })));
  });
});
