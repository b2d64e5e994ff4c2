/**
 * Connecting by `url` when only `ioredis` is installed (the `redis` package is
 * made unloadable here), and when neither is. The README's deployment table
 * points here for the `url` cells of the ioredis column.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RedisCoordinator, RedisCoordinatorOptions } from '../src/index.js';
import { expectOneGrant } from './coordination-check.js';
import {
  type RedisNode,
  type TlsDeployment,
  opensslInstalled,
  redisServerInstalled,
  startPasswordServer,
  startTlsServer,
} from './deployments.js';

/** What Node throws for `import('x')` when package x is not installed. */
function notInstalled(name: string): never {
  throw Object.assign(new Error(`Cannot find package '${name}' imported from ${import.meta.url}`), {
    code: 'ERR_MODULE_NOT_FOUND',
  });
}

async function loadCoordinator(missing: string[]): Promise<typeof import('../src/index.js')> {
  vi.resetModules();
  for (const name of missing) vi.doMock(name, () => notInstalled(name));
  return import('../src/index.js');
}

const created: RedisCoordinator[] = [];

afterEach(async () => {
  await Promise.all(created.splice(0).map((instance) => instance.stop()));
  vi.doUnmock('redis');
  vi.doUnmock('ioredis');
  vi.resetModules();
});

/** How often the coordinator loaded `ioredis`. */
let ioredisLoads = 0;

async function pair(options: RedisCoordinatorOptions): Promise<RedisCoordinator[]> {
  const { RedisCoordinator } = await loadCoordinator(['redis']);
  vi.doMock('ioredis', async (importOriginal) => {
    ioredisLoads++;
    return importOriginal();
  });
  const instances = [0, 1].map(() => new RedisCoordinator({ logger: { warn() {}, info() {} }, ...options }));
  created.push(...instances);
  const loadsBefore = ioredisLoads;
  await Promise.all(instances.map((instance) => instance.start()));
  expect(ioredisLoads).toBeGreaterThan(loadsBefore);
  return instances;
}

describe('RedisCoordinator with `url` and neither client package installed', () => {
  it('rejects start() with a message naming both packages', async () => {
    const { RedisCoordinator, RedisCoordinatorError } = await loadCoordinator(['redis', 'ioredis']);
    const coordinator = new RedisCoordinator({ url: 'redis://127.0.0.1:1' });
    const error = await coordinator.start().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RedisCoordinatorError);
    expect((error as Error).message).toBe(
      'RedisCoordinator: Connecting by `url` needs a Redis client package: install `redis` (node-redis 5 or 6) or `ioredis` (5 or 6), or pass a client as `client`',
    );
    expect(coordinator.available).toBe(false);
  });
});

describe.skipIf(!redisServerInstalled)('RedisCoordinator with `url` and only ioredis installed', () => {
  describe('requirepass', () => {
    const password = 'p@ss w:rd/"ü';
    let node: RedisNode;

    beforeAll(async () => {
      node = await startPasswordServer(password);
    });
    afterAll(async () => {
      await node?.stop();
    });

    it('connects with ioredis and coordinates, with the password in the url or as `password`', async () => {
      await expectOneGrant(await pair({ url: `redis://:${encodeURIComponent(password)}@127.0.0.1:${node.port}` }));
      await expectOneGrant(await pair({ url: node.url, password }));
    });
  });

  describe.skipIf(!opensslInstalled)('TLS with a private CA and client certificates', () => {
    let deployment: TlsDeployment;

    beforeAll(async () => {
      deployment = await startTlsServer();
    });
    afterAll(async () => {
      await deployment?.stop();
    });

    it('connects with ioredis over rediss:// with `tls`, and reconnects after the server restarts', async () => {
      const instances = await pair({ url: deployment.url, tls: deployment.clientTls });
      await expectOneGrant(instances);
      await deployment.node.kill();
      await deployment.node.launch();
      // A claim waits for the reconnect within its grace period.
      await expectOneGrant(instances);
    });
  });
});
